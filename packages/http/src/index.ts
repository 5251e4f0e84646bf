export { type Problem, type ProblemField, problemHandler, toProblem } from './problem.ts';
