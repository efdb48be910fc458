import { z } from 'zod';

export interface RouteDoc {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  roles: string;
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  responses?: Record<string, string>;
  /** Request headers the route reads (besides Authorization). */
  headers?: { name: string; required?: boolean; description: string }[];
  /** A body that is not JSON (e.g. multipart/related): its media type and what it holds. */
  rawBody?: { contentType: string; description: string };
}

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** OpenAPI 3.1 description built from the same zod schemas the routes validate with. */
export function buildOpenApi(routes: RouteDoc[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      description: `Who: ${r.roles}.`,
      security: r.roles === 'anyone' || r.roles.startsWith('the holder') ? [] : [{ bearer: [] }],
      responses: {
        ...(r.response
          ? { '200': { description: 'OK', content: { 'application/json': { schema: schema(r.response) } } } }
          : { '200': { description: 'OK' } }),
        ...Object.fromEntries(Object.entries(r.responses ?? {}).map(([k, v]) => [k, { description: v }])),
        default: { description: 'Error `{"error":{"code","message"}}`', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schema(r.body) } } };
    if (r.rawBody) op.requestBody = { required: true, description: r.rawBody.description, content: { [r.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } };
    const params: Record<string, unknown>[] = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const h of r.headers ?? []) params.push({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } });
    if (r.query) {
      const q = schema(r.query) as { properties?: Record<string, unknown> };
      for (const [name, s] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: false, schema: s as never });
    }
    if (params.length) op.parameters = params;
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'TeleRead API', version: '1.0.0', description: 'Tele-diagnosis workflow for county medical consortia.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } } },
    },
    paths,
  };
}
