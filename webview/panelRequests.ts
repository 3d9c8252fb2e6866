// A panel's requests to its host, paired with their replies by id. Each answer has one place in
// the view (the heatmap, the head map, the model view…): a newer request for a place supersedes
// the one still awaited there, whose reply is dropped when it comes.
import type { PanelCall, PanelMethod, PanelMethods, PanelReply, PanelRequest } from '../src/protocol';
import type { HostApi } from './hostApi';

/** What the view does with each result of the methods it asks (M). */
export type PanelAnswers<M extends PanelMethod = PanelMethod> = { [K in M]: (result: PanelMethods[K]['result']) => void };

/** Where each method's answer goes: a head and a tile both fill the heatmap. */
const PLACES = { head: 'heatmap', tile: 'heatmap', headMap: 'headMap', window: 'modelView', tokenRow: 'tokenView', buckets: 'buckets', pair: 'pair' } as const satisfies Record<PanelMethod, string>;

export interface PanelRequests<M extends PanelMethod = PanelMethod> {
  ask(call: PanelCall<M>): void;
  /** Hands a reply to the answer that awaits it; a superseded one, or one of a method this panel does not ask, is dropped. */
  settle(reply: PanelReply): void;
}

/** `failed` hears why the host could not answer a request. */
export function panelRequests<M extends PanelMethod>(host: HostApi, answers: PanelAnswers<M>, failed: (method: M, message: string) => void): PanelRequests<M> {
  let nextId = 1;
  const awaited = new Map<string, number>();
  const asks = (method: PanelMethod): method is M => Object.hasOwn(answers, method);
  function settle<R extends PanelMethod>(reply: PanelReply<R>): void {
    const method: PanelMethod = reply.method;
    const place = PLACES[method];
    if (!asks(method) || awaited.get(place) !== reply.id) return;
    awaited.delete(place);
    if ('error' in reply) failed(method, reply.error);
    else (answers[method] as (result: unknown) => void)(reply.result);
  }
  return {
    ask(call) {
      const id = nextId++;
      awaited.set(PLACES[call.method], id);
      const request = { type: 'request', id, ...call } as PanelRequest;
      host.postMessage(request);
    },
    settle,
  };
}
