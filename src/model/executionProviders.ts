// The execution providers a user may ask for: apart from ortSession.ts, so that what names them
// (the CLI's options, the settings) does not load ONNX Runtime.

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = Object.freeze(['auto', 'cpu', 'webgpu', 'cuda']);

/** A provider that runs a session. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
