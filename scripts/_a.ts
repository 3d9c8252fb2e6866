process.env.ORT_DISABLE_TELEMETRY = '1';
import { LoadedModel } from '../src/model/capture';
import { analyzeCapture } from '../src/analysis/attentionAnalysis';
(async () => {
  const m = await LoadedModel.load({ model: 'media/specimen', executionProvider: 'cpu' });
  const cap = await m.capture({ text: 'The quick brown fox, the lazy dog. It jumps over the lazy fox, then the dog jumps.' });
  const a = analyzeCapture(cap);
  for (const h of a.heads) console.log(h.layer, h.head, h.labels.join('|'), 'prev', h.toPrev.toFixed(2), 'next', h.toNext?.toFixed(2), 'self', h.toSelf.toFixed(2), 'cls', h.toCls.toFixed(2), 'sep', h.toSep.toFixed(2), 'punct', h.toPunct.toFixed(2), 'H', h.entropyNats.toFixed(2), '/', h.uniformEntropyNats.toFixed(2), 'dist', h.meanDistance.toFixed(1), 'spans', h.span50, h.span90, h.span99, h.span90Max);
  console.log(a.causal, a.headDistance!.embedding.map(e => e.map(x => x.toFixed(2)).join(',')).join(' '));
})();
