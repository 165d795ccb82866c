#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that the registry we can
// reach does not serve in the locked version (e.g. @swc/core-darwin-arm64, @foundry-rs/anvil-win32-amd64).
// `npm install` leaves them out of the lock, and `npm ci` then refuses the lock as out of sync. Each
// added entry is `optional` and carries the `os` / `cpu` read from the package name, so npm skips it on
// other platforms without fetching it, exactly as with a lock made against the full registry.
// Run after changing dependencies:  npm install && node scripts/lock-optional-platforms.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const OS = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU = {
  x64: 'x64',
  amd64: 'x64',
  arm64: 'arm64',
  aarch64: 'arm64',
  arm: 'arm',
  ia32: 'ia32',
  x86: 'ia32',
  ppc64: 'ppc64',
  ppc64le: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  wasm32: 'wasm32',
};

function platformOf(name) {
  const tokens = name.split('/').pop().split(/[-_]/);
  const os = tokens.find((t) => OS.includes(t));
  const cpuToken = tokens.find((t) => t in CPU);
  const out = {};
  if (os) out.os = [os];
  if (cpuToken) out.cpu = [CPU[cpuToken]];
  if (tokens.includes('musl')) out.libc = ['musl'];
  else if (tokens.includes('gnu') || tokens.includes('gnueabihf')) out.libc = ['glibc'];
  return out;
}

let added = 0;
for (const [loc, entry] of Object.entries(pkgs)) {
  for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    // Resolve where npm would look for it: nested first, then hoisted.
    const base = loc === '' ? '' : `${loc}/`;
    if (pkgs[`${base}node_modules/${dep}`] || pkgs[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform.os && !platform.cpu) continue; // not a platform binary: leave it to npm
    pkgs[`node_modules/${dep}`] = { version: spec.replace(/^[\^~=]/, ''), optional: true, ...platform };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`lock-optional-platforms: added ${added} platform-specific optional entries\n`);
