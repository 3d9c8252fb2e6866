// The specimen with its weights written to an external data file, as large exports are.
import { EncodedModel } from '../../src/model/builder/onnxBuilder';
import { specimenGraph } from '../../src/model/builder/specimenModel';

export function encoderGraphWithExternal(location: string): EncodedModel {
  return specimenGraph().encode({ externalLocation: location, externalMinBytes: 1024 });
}
