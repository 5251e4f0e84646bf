import type { CloudEventDocument, Delivery, Tally } from './receiver.ts';

/** Paints text in a style: the CLI's `style` (colour on a terminal), or plain text. */
export type Paint = (kind: 'bold' | 'dim' | 'green' | 'red' | 'yellow', text: string) => string;

/** No colour: what tests and pipes see. */
export const plain: Paint = (_kind, text) => text;

/** An event's data is shown up to this many lines, the last saying how many more there were. */
export const MAX_DATA_LINES = 40;

const LABEL_WIDTH = 9;

// Attributes come from the network: a control character could move the cursor or recolour the terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const printable = (text: string): string => text.replace(CONTROL, '?');

const attribute = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : printable(typeof value === 'string' ? value : JSON.stringify(value));

/** The data as indented JSON, cut to `maxLines` (the last line then says how many were left out). */
export function dataLines(data: unknown, maxLines = MAX_DATA_LINES): string[] {
  if (data === undefined) return ['(no data)'];
  const lines = (JSON.stringify(data, null, 2) ?? String(data)).split('\n');
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, Math.max(1, maxLines - 1));
  return [...kept, `… ${lines.length - kept.length} more lines`];
}

/**
 * One event as a block: its time and type, then subject (the key), id and data, aligned. The
 * time is the event's own (`time`), else when it arrived.
 */
export function formatEvent(event: CloudEventDocument, receivedAt: Date, paint: Paint = plain): string {
  const time = attribute(event.time) ?? receivedAt.toISOString();
  const type = attribute(event.type) ?? '(no type)';
  const rows: Array<[string, string]> = [];
  const subject = attribute(event.subject);
  if (subject !== undefined) rows.push(['subject', subject]);
  rows.push(['id', attribute(event.id) ?? '(no id)']);
  const [first = '', ...rest] = dataLines(event.data);
  const pad = ' '.repeat(2 + LABEL_WIDTH);
  return [
    `${paint('dim', time)}  ${paint('bold', type)}`,
    ...rows.map(([label, value]) => `  ${paint('dim', label.padEnd(LABEL_WIDTH))}${value}`),
    `  ${paint('dim', 'data'.padEnd(LABEL_WIDTH))}${first}`,
    ...rest.map((line) => `${pad}${line}`),
  ].join('\n');
}

/** What one request came to, for people to read: an event's block, a repeat's line, or a red refusal. */
export function formatDelivery(delivery: Delivery, paint: Paint = plain): string {
  const at = delivery.receivedAt.toISOString();
  switch (delivery.kind) {
    case 'event':
      return formatEvent(delivery.event, delivery.receivedAt, paint);
    case 'again':
      return paint('dim', `${at}  (again) ${printable(delivery.webhookId)}`);
    case 'rejected':
      return paint(
        'red',
        `${at}  the signature did not verify (${delivery.reason}); webhook-id ${delivery.webhookId === undefined ? '(none)' : printable(delivery.webhookId)}; answered 401`,
      );
    default:
      return delivery satisfies never;
  }
}

/** The closing count: "3 events received (1 again, 0 refused)". */
export function formatTally(tally: Tally): string {
  return `${tally.events} ${tally.events === 1 ? 'event' : 'events'} received (${tally.again} again, ${tally.rejected} refused)`;
}
