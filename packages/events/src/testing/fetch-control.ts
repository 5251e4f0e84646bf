import type { FetchControl } from '../subscriber/retry-due.ts';

/** The consumer calls the fetch gate made, in order, as text: `pause orders[1]`, `resume orders`, `seek orders[1]@7`. */
export function recordingControl(): FetchControl & { calls: string[] } {
  const calls: string[] = [];
  const named = (topics: Array<{ topic: string; partitions?: number[] }>) =>
    topics.map(({ topic, partitions }) => (partitions ? `${topic}[${partitions.join(',')}]` : topic)).join(' ');
  return {
    calls,
    pause: (topics) => void calls.push(`pause ${named(topics)}`),
    resume: (topics) => void calls.push(`resume ${named(topics)}`),
    seek: ({ topic, partition, offset }) => void calls.push(`seek ${topic}[${partition}]@${offset}`),
  };
}
