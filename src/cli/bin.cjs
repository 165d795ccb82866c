#!/usr/bin/env node
// `netmargin` as an installed command (package.json "bin"): the TypeScript entry run through tsx.
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: tsx must register before the entry loads */
require('tsx/cjs');
require('./netmargin.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
