// The badge's wording lives in the contract so the CLI, the benchmark and the UI agree on it.
export { BACKEND_LABELS, describeBackendBadge } from '$contract/backend-labels';
