#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`; npm start and npm test build first).
import { main, processIo } from '../dist/cli/tessera.js';

const code = await main(process.argv.slice(2), processIo);
if (code !== 0) process.exitCode = code;
