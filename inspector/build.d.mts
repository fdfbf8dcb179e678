/** Types of inspector/build.mjs, for the server that builds the UI on first start. */
export function buildInspectorUi(): Promise<void>;
export function buildInspectorCli(): Promise<void>;
export function buildInspector(): Promise<void>;
export function buildBrowserInspectExample(): Promise<void>;
