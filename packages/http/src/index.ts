export { httpMetrics, metricsHandler, UNMATCHED_ROUTE } from './metrics.ts';
export { type Problem, type ProblemField, problemHandler, toProblem } from './problem.ts';
