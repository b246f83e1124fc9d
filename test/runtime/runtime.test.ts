/**
 * One runtime everywhere: the suite runs on the Node.js that `engines` names (the project brings
 * it as the platform package `node-<os>-<cpu>`, first on npm scripts' PATH, whatever Node the
 * machine has), the Docker image is built on the same major, and the compose file pins the
 * drachtio-server the drachtio front is tested against.
 */
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { engines: { node: string }; optionalDependencies: Record<string, string> };

describe('the runtime', () => {
  it('is the Node.js that engines names', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node), `${process.versions.node} vs ${pkg.engines.node}`).toBe(true);
  });

  it('is the version of every platform package the project brings', () => {
    const platforms = Object.entries(pkg.optionalDependencies).filter(([name]) => /^node-(bin-)?(linux|darwin)-/.test(name));
    expect(platforms.length).toBeGreaterThanOrEqual(4);
    for (const [name, version] of platforms) expect({ name, version }).toEqual({ name, version: process.versions.node });
  });

  it('is the major of the Docker image, and compose pins drachtio-server 0.9.10', async () => {
    const images = [...(await readFile('Dockerfile', 'utf8')).matchAll(/^FROM node:(\d+)[^\s]*/gm)].map((m) => Number(m[1]));
    expect(images.length).toBeGreaterThan(0);
    for (const major of images) expect(major).toBe(semver.major(process.versions.node));
    expect(await readFile('docker-compose.yml', 'utf8')).toMatch(/^\s*image: drachtio\/drachtio-server:0\.9\.10$/m);
  });
});
