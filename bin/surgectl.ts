#!/usr/bin/env node
import { processRuntime } from '../src/process-runtime.js';
import { main } from '../src/cli.js';

const runtime = processRuntime();
process.exitCode = await main(process.argv.slice(2), runtime);
