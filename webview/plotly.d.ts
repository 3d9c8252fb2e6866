// The part of plotly.js-dist's API the views use.
declare module 'plotly.js-dist' {
  const Plotly: {
    react(root: HTMLElement, data: object[], layout: object, config?: object): Promise<void>;
    relayout(root: HTMLElement, update: object): Promise<void>;
    Plots: { resize(root: HTMLElement): void };
    purge(root: HTMLElement): void;
  };
  export default Plotly;
}
