#!/usr/bin/env node
import { exitQuietlyWhenPipeCloses } from './internal/pipes.ts';
import { run } from './program.ts';

exitQuietlyWhenPipeCloses();
process.exitCode = await run(process.argv);
