/**
 * Amounts as the contracts carry them: decimal strings with at most two places ("12.50"), held
 * here as integer cents so that sums are exact.
 */
const AMOUNT = /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/;

/** Cents of a decimal string, or undefined when it is not a non-negative amount with ≤ 2 places (≤ 10 integer digits, as decimal(12,2)). */
export function toCents(amount: string): bigint | undefined {
  if (!AMOUNT.test(amount)) return undefined;
  const [units = '0', fraction = ''] = amount.split('.');
  return BigInt(units) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/** The decimal string of cents: 2850n → "28.50". */
export function fromCents(cents: bigint): string {
  const units = cents / 100n;
  const fraction = (cents % 100n).toString().padStart(2, '0');
  return `${units}.${fraction}`;
}

/** ISO 4217 codes this runtime knows (Intl's list), e.g. EUR, GBP, JPY. */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Whether `code` is an ISO 4217 currency code. */
export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}
