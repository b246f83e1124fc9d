/**
 * The served OpenAPI document as outside tools take it: Redocly CLI lints it clean (0 errors, 0
 * warnings, with `redocly.yaml`, offline), and a client generated from it with openapi-typescript
 * names every operation. Also what neither tool checks: every operation named once, every request
 * body and every answer with a body has an example.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';

interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}
interface Schema {
  $ref?: string;
  examples?: unknown[];
  items?: Schema;
  type?: string;
}
interface Operation {
  operationId?: string;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { $ref?: string; content?: Record<string, Media> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const run = promisify(execFile);
const redoclyCli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

let ctx: TestContext;
let doc: Document;
let dir: string;
let file: string;
beforeAll(async () => {
  ctx = await createTestContext();
  doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json<Document>();
  dir = await mkdtemp(join(tmpdir(), 'cmr-openapi-'));
  file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(doc));
});
afterAll(async () => {
  await ctx.close();
  await rm(dir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })));

describe('the OpenAPI document with outside tools', () => {
  it('passes Redocly lint with 0 errors and 0 warnings', async () => {
    const { stdout } = await run(process.execPath, [redoclyCli, 'lint', file, '--config', 'redocly.yaml', '--format=json'], {
      // Offline: no usage data, no update or announcement checks.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const report = JSON.parse(stdout) as { totals: Record<string, number>; problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  }, 60_000);

  it('names every operation once, and openapi-typescript generates a client with each of them', async () => {
    const ids = operations().map(({ name, op }) => op.operationId ?? `(none for ${name})`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(45);

    const source = ts.createSourceFile('api.d.ts', astToString(await openapiTS(JSON.stringify(doc))), ts.ScriptTarget.ES2022);
    const generated = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'operations');
    const names = (generated?.members ?? []).map((member) => member.name && ts.isIdentifier(member.name) ? member.name.text : '?');
    expect(names.sort()).toEqual([...ids].sort());
  }, 60_000);

  it('gives an example of every request body and of every answer with a body', () => {
    const resolve = (schema: Schema | undefined): Schema | undefined =>
      schema?.$ref ? resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]) : schema;
    const exemplified = (media: Media): boolean => {
      if (media.example !== undefined || media.examples !== undefined) return true;
      const schema = resolve(media.schema);
      return (schema?.examples?.length ?? 0) > 0 || (schema?.type === 'array' && exemplified({ schema: schema.items }));
    };
    const missing = operations().flatMap(({ name, op }) => [
      ...Object.entries(op.requestBody?.content ?? {}).filter(([, media]) => !exemplified(media)).map(([type]) => `${name} request ${type}`),
      ...Object.entries(op.responses)
        .filter(([status]) => Number(status) < 400)
        .flatMap(([status, answer]) => Object.entries(answer.content ?? {}).filter(([, media]) => !exemplified(media)).map(([type]) => `${name} ${status} ${type}`)),
    ]);
    expect(missing).toEqual([]);
  });

  it('documents every refusal as problem details with the codes the server uses', () => {
    const responses = (doc.components as unknown as { responses: Record<string, { content: Record<string, { example: { code: string } }> }> }).responses;
    for (const [name, response] of Object.entries(responses)) {
      expect(Object.keys(response.content), name).toEqual(['application/problem+json']);
    }
    const problem = doc.components.schemas['Problem'] as { properties: Record<string, { enum?: string[] }> };
    expect(problem.properties['code']?.enum).toEqual(expect.arrayContaining(['validation-failed', 'unauthorized', 'charging-denied', 'rate-limited']));
    expect(Object.keys(problem.properties)).toEqual(expect.arrayContaining(['chargeId', 'reason', 'errors']));
  });
});
