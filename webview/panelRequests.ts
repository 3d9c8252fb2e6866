// The attention panel's requests to its host, paired with their replies by id. Each answer has one
// place in the view (the heatmap, the head map): a newer request for a place supersedes the one
// still awaited there, whose reply is dropped when it comes.
import type { PanelCall, PanelMethod, PanelMethods, PanelReply } from '../src/protocol';
import type { HostApi } from './hostApi';

/** What the view does with each method's result. */
export type PanelAnswers = { [M in PanelMethod]: (result: PanelMethods[M]['result']) => void };

/** Where each method's answer goes: a head and a tile both fill the heatmap. */
const PLACES = { head: 'heatmap', tile: 'heatmap', headMap: 'headMap' } as const satisfies Record<PanelMethod, string>;

export interface PanelRequests {
  ask(call: PanelCall): void;
  /** Hands a reply to the answer that awaits it; a superseded one is dropped. */
  settle(reply: PanelReply): void;
}

/** `failed` hears why the host could not answer a request. */
export function panelRequests(host: HostApi, answers: PanelAnswers, failed: (method: PanelMethod, message: string) => void): PanelRequests {
  let nextId = 1;
  const awaited = new Map<string, number>();
  function settle<M extends PanelMethod>(reply: PanelReply<M>): void {
    const place = PLACES[reply.method];
    if (awaited.get(place) !== reply.id) return;
    awaited.delete(place);
    if ('error' in reply) failed(reply.method, reply.error);
    else answers[reply.method](reply.result);
  }
  return {
    ask(call) {
      const id = nextId++;
      awaited.set(PLACES[call.method], id);
      host.postMessage({ type: 'request', id, ...call });
    },
    settle,
  };
}
