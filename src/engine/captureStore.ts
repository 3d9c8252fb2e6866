// The captures the engine keeps for the views to ask of: the probabilities (and queries and keys)
// stay in this process, and the editor asks for a head, a tile or a token's rows at a time by id.
// The least recently used go when they hold more than the budget.
import type { AttentionCapture } from '../analysis/attentionCapture';
import type { LabOptions } from '../analysis/efficientAttentionLab';

/** A capture asked for by an id the engine no longer holds: evicted, released, or from an engine that has since restarted. */
export class CaptureGoneError extends Error {}

export interface KeptCapture {
  capture: AttentionCapture;
  /** whether its self-attention is causal, as the analysis found: what its head map needs */
  causal: boolean;
  /** the lab options it was analysed with, which its buckets and clusters follow */
  lab?: LabOptions;
}

/** The bytes a capture holds: probabilities, queries and keys. */
export function captureHeldBytes(c: AttentionCapture): number {
  return c.layers.reduce((sum, l) => sum + l.probs.byteLength + (l.query?.data.byteLength ?? 0) + (l.key?.data.byteLength ?? 0), 0);
}

export class CaptureStore {
  private readonly kept = new Map<string, KeptCapture & { bytes: number }>();
  private next = 1;
  // ids name this process, so that an engine started later never answers for another's capture
  private readonly prefix = `${process.pid}-${Date.now().toString(36)}`;

  /** Keeps a capture within `budgetBytes` (with the others that still fit) and returns its id. */
  put(entry: KeptCapture, budgetBytes: number): string {
    const id = `${this.prefix}-${this.next++}`;
    this.kept.set(id, { ...entry, bytes: captureHeldBytes(entry.capture) });
    let held = this.heldBytes;
    // the oldest go first; the newest stays even alone over the budget, as the view asks for it now
    for (const [old, e] of this.kept) {
      if (held <= budgetBytes || old === id) break;
      this.kept.delete(old);
      held -= e.bytes;
    }
    return id;
  }

  /** The capture of an id, made the most recently used. */
  get(id: string): KeptCapture {
    const e = this.kept.get(id);
    if (!e) throw new CaptureGoneError(`the engine no longer holds capture ${id}: released, evicted for newer ones (attentionLens.captureCacheMiB), or the engine restarted`);
    this.kept.delete(id);
    this.kept.set(id, e);
    return e;
  }

  release(id: string): void {
    this.kept.delete(id);
  }

  get heldBytes(): number {
    let sum = 0;
    for (const e of this.kept.values()) sum += e.bytes;
    return sum;
  }
}
