#!/usr/bin/env node
// Runs the compiled CLI (npm run build); during development use `npm run cli -- <command>`.
import '../dist/src/cli/index.js';
