// The colour controls of a heatmap: the range (the quantity's own, or the data's) and the curve
// (linear, square root, log), kept in the panel's state.
import { COLOR_CURVES, COLOR_RANGES, ColorCurve, ColorRange } from './colorScale';
import { dropdown } from './controls';

export interface ColorChoice {
  range: ColorRange;
  curve: ColorCurve;
}

/** The choice a panel's state holds: the fixed range and a linear curve unless the user chose others. */
export const colorChoice = (state: { colorRange?: string; colorCurve?: string }): ColorChoice => ({
  range: COLOR_RANGES.find((r) => r.key === state.colorRange)?.key ?? 'fixed',
  curve: COLOR_CURVES.find((c) => c.key === state.colorCurve)?.key ?? 'linear',
});

/** The range picker, and the curve picker where `curves` (weights of long rows need one; statistics do not). */
export function colorControls(choice: ColorChoice, curves: boolean, onChange: (choice: ColorChoice) => void): HTMLElement[] {
  const range = dropdown('Colour range', COLOR_RANGES.length, COLOR_RANGES.findIndex((r) => r.key === choice.range), (i) => COLOR_RANGES[i].label, (i) => onChange({ ...choice, range: COLOR_RANGES[i].key }));
  range.id = 'color-range';
  if (!curves) return [range];
  const curve = dropdown('Scale', COLOR_CURVES.length, COLOR_CURVES.findIndex((c) => c.key === choice.curve), (i) => COLOR_CURVES[i].label, (i) => onChange({ ...choice, curve: COLOR_CURVES[i].key }));
  curve.id = 'color-curve';
  return [range, curve];
}
