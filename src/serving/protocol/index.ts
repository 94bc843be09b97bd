/** The serving protocols' codecs: request bodies into checked tensors, output tensors into response bodies. */
export { parseInferRequest, inferResponseJson, DEFAULT_MAX_ELEMENTS } from './oip-json.js';
export type { InferRequest, InferResult, InferResponseJson, OutputJson, ParseOptions, RequestedOutput, Parameters } from './oip-json.js';
export { HEADER_LENGTH_HEADER, headerLengthOf, parseBinaryInferRequest, inferResponseBinary, inferRequestBinary, wantsBinary, binaryWanted, encodeTensor } from './oip-binary.js';
export type { BinaryRequested } from './oip-binary.js';
export { checkInputs, checkSameRows, firstDimDynamic, isDynamicDim, modelMetadata, oipDatatypeOf, rowsOf, selectOutputs } from './check.js';
export type { ModelMetadata, TensorMetadata } from './check.js';
export { parseInvocation, parseInvocationRequest, invocationResponse } from './mlflow-scoring.js';
export type { ScoringModel } from './mlflow-scoring.js';
export { floatToHalf, halfToFloat, HALF_MAX } from './half.js';
