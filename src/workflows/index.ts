/** The workflow bundle's entry point: every workflow the worker hosts. */
export { sandboxWorkflow } from './sandbox.js';
export { reconcileWorkflow } from './reconcile.js';
export { hostWorkflow } from './host.js';
