// An ONNX Runtime error during a run, read for what it most likely says about the input.

/** What an ONNX Runtime error during a run most likely means for the input. */
export function likelyCause(raw: string, positions: number | undefined): string {
  if (/out of (data )?bounds|indices element|index .* is out of|invalid index/i.test(raw)) return "a token id falls outside the model's embedding table (a tokenizer of another vocabulary?)";
  if (/unexpected input data type|type mismatch|expected: \(tensor\(|invalid.*type/i.test(raw)) return 'an input has a type the model does not take';
  if (/broadcast|dimension|shape|size\(|does not match|mismatch|reshape|incompatible/i.test(raw)) {
    return positions !== undefined ? `the input's length (${positions} positions) does not fit the graph: it is likely longer than the model was built for` : "an input's shape does not fit the graph";
  }
  return 'the model rejected the input';
}
