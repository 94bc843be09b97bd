/** Registry API shapes the model pages read (see docs/registry.md). */

export interface ModelEvent {
  id: number;
  name: string;
  version: number | null;
  kind: string;
  alias: string | null;
  actor: string | null;
  time: number;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface PromotionPolicy {
  rules: string[];
  require_data_validation: boolean;
  require_approval: boolean;
  description?: string | null;
}

export interface Gate {
  gate: string;
  passed: boolean;
  message: string;
  details?: Record<string, unknown>;
}

export interface PromotionRequest {
  id: number;
  name: string;
  version: number;
  alias: string;
  status: string;
  requested_by: string | null;
  request_time: number;
  decided_by: string | null;
  decision_time: number | null;
  reason: string | null;
  gates: Gate[];
}

export interface PromoteResult {
  request_id: number | null;
  name: string;
  version: number;
  alias: string;
  status: 'PROMOTED' | 'REJECTED' | 'PENDING_APPROVAL';
  champion_version: number | null;
  gates: Gate[];
  message: string;
  dry_run: boolean;
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string | null)[];
}

export interface SignatureSpec {
  kind: 'columns' | 'tensors';
  columns?: { name?: string; type: string; required?: boolean }[];
  tensors?: { name?: string; dtype: string; shape: number[] }[];
}

export interface PackageInfo {
  flavors?: string[];
  servable?: boolean;
  not_servable_reason?: string;
  signature?: { inputs?: SignatureSpec; outputs?: SignatureSpec; params?: { name: string; type: string; default: unknown; shape: number[] | null }[] };
  signature_source?: 'mlmodel' | 'onnx';
  onnx?: {
    path: string;
    ir_version: number;
    opset: { domain: string; version: number }[];
    producer_name: string;
    producer_version: string;
    inputs: TensorInfo[];
    outputs: TensorInfo[];
    size_bytes: number;
    sha256: string;
  };
  files?: number;
  size_bytes?: number;
  warnings?: string[];
}

export interface Recipe {
  model: { name: string; version: number; source: string; storage_location: string; status: string; servable: boolean };
  run: { run_id: string; run_name: string; experiment_id: string; user_id: string; status: string; start_time: number; end_time: number | null } | null;
  code: Record<string, string | null>;
  params: Record<string, string>;
  datasets: { name: string; digest: string; source_type: string; source: string; context: string | null; kiln_version: { name: string; version: number; digest: string } | null }[];
  environment: { runtime: Record<string, string>; python_version: string | null; requirements: string | null; conda: string | null; python_env: string | null };
  gaps: string[];
  steps: string[];
}
