/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
import { z } from 'zod';
import { connectSchema, createSandboxSchema, refreshSchema, setTimeoutSchema, bulkSchema } from './schemas.js';

type Op = { summary: string; body?: z.ZodType; responses: Record<string, string>; query?: Array<[string, string]> };

const errorResponses = { '400': 'Invalid request ({code, message})', '401': 'Missing or invalid API key', '404': 'Sandbox not found or stopped' };
const id = '/sandboxes/{sandboxID}';

const operations: Record<string, Record<string, Op>> = {
  '/sandboxes': {
    post: {
      summary: 'Create a sandbox (synchronous unless ?wait=false)',
      body: createSandboxSchema,
      query: [['wait', 'true (default): answer 201 once running; false: answer 202 while creating']],
      responses: { '201': 'Running sandbox', '202': 'Sandbox creating', '429': 'Owner quota reached (sandbox count, CPU or memory total)', '502': 'Provisioning failed', ...errorResponses },
    },
    get: {
      summary: 'List sandboxes (filter by status, metadata; cursor paging)',
      query: [
        ['status', 'creating,running,paused,stopped,failed (comma-separated or repeated); default live ones'],
        ['metadata', 'key=value, repeat for AND'],
        ['limit', '1-1000, default 100'],
        ['nextToken', 'cursor from the previous page'],
      ],
      responses: { '200': '{sandboxes, nextToken}', ...errorResponses },
    },
  },
  '/sandboxes/bulk/{action}': {
    post: { summary: 'Kill or pause every matching sandbox (Temporal batch operation)', body: bulkSchema, responses: { '202': '{affected, jobId}', ...errorResponses } },
  },
  [id]: {
    get: { summary: 'Sandbox info (status, endAt, timeout, …)', responses: { '200': 'Sandbox', ...errorResponses } },
    delete: { summary: 'Kill the sandbox (container and data destroyed)', responses: { '204': 'Killed', ...errorResponses } },
  },
  [`${id}/shutdown`]: { post: { summary: 'Same as DELETE', responses: { '204': 'Killed', ...errorResponses } } },
  [`${id}/pause`]: { post: { summary: 'Pause (freeze processes, keep files)', responses: { '200': 'Sandbox', '409': 'Not running', ...errorResponses } } },
  [`${id}/resume`]: { post: { summary: 'Resume a paused sandbox', responses: { '200': 'Sandbox', '409': 'Not paused', ...errorResponses } } },
  [`${id}/connect`]: {
    post: { summary: 'Connect: resume if paused, touch; never shortens', body: connectSchema, responses: { '200': 'Sandbox', ...errorResponses } },
  },
  [`${id}/timeout`]: {
    post: { summary: 'Set the idle timeout; endAt = now + timeout (may shorten)', body: setTimeoutSchema, responses: { '200': 'Sandbox', ...errorResponses } },
  },
  [`${id}/refreshes`]: {
    post: { summary: 'Keep alive: endAt = max(endAt, now + duration)', body: refreshSchema, responses: { '200': 'Sandbox', ...errorResponses } },
  },
  [`${id}/events`]: { get: { summary: 'Lifecycle transitions with reasons (also after stop)', responses: { '200': 'Events', ...errorResponses } } },
};

/** Extra operations contributed by other route modules (data plane). */
const extraOperations: Record<string, Record<string, Op>> = {};

/** Registers operations for the document (used by route modules outside this file). */
export function registerOperations(path: string, ops: Record<string, Op>): void {
  extraOperations[path] = { ...extraOperations[path], ...ops };
}

/** Builds the OpenAPI 3.1 document. */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries({ ...operations, ...extraOperations })) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const parameters = [
        ...(path.match(/\{(\w+)\}/g) ?? []).map((p) => ({ name: p.slice(1, -1), in: 'path', required: true, schema: { type: 'string' } })),
        ...(op.query ?? []).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } })),
      ];
      paths[path][method] = {
        summary: op.summary,
        ...(parameters.length ? { parameters } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input' }) } } } } : {}),
        responses: Object.fromEntries(Object.entries(op.responses).map(([code, description]) => [code, { description }])),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth API', version: '0.1.0', description: 'Docker sandboxes whose lifecycle is a Temporal workflow.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
  };
}

/** A dependency-free docs page rendering the OpenAPI document. */
export function docsPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>berth API</title>
<style>body{font:15px system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}code,pre{background:#f4f4f4;padding:2px 4px}
.op{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}.m{font-weight:bold;text-transform:uppercase;display:inline-block;width:4.5em}</style></head>
<body><h1>berth API</h1><p>Authenticate with <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key</code>. Errors are <code>{code, message}</code>. Machine-readable: <a href="openapi.json">openapi.json</a>.</p>
<div id="ops">loading…</div><script>
fetch('openapi.json').then(r=>r.json()).then(doc=>{const el=document.getElementById('ops');el.innerHTML='';
for(const [path,ops] of Object.entries(doc.paths)){for(const [m,op] of Object.entries(ops)){const d=document.createElement('div');d.className='op';
const params=(op.parameters||[]).map(p=>'<li><code>'+p.name+'</code> ('+p.in+') '+(p.description||'')+'</li>').join('');
const body=op.requestBody?'<details><summary>body schema</summary><pre>'+JSON.stringify(op.requestBody.content['application/json'].schema,null,2)+'</pre></details>':'';
const res=Object.entries(op.responses).map(([c,r])=>'<code>'+c+'</code> '+r.description).join(' · ');
d.innerHTML='<span class="m">'+m+'</span><code>'+path+'</code> — '+op.summary+(params?'<ul>'+params+'</ul>':'')+body+'<div>'+res+'</div>';el.appendChild(d);}}});
</script></body></html>`;
}
