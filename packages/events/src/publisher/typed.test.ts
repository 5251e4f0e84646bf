import { describe, expectTypeOf, it } from 'vitest';
import type { JunctionEvents, OrderPlaced, OrderPlacedV1 } from '../../../../schemas/generated/events.ts';
import type { Publisher } from './publisher.ts';

// Compile-time checks (the type check of `./junction test` runs them): a publisher typed by the
// generated event map accepts exactly the data of each event type.
describe('a publisher typed by the generated JunctionEvents', () => {
  it('takes the latest version of each event type', () => {
    expectTypeOf<Parameters<Publisher<JunctionEvents>['publish']>[0]>().toEqualTypeOf<keyof JunctionEvents>();
    expectTypeOf<JunctionEvents['com.junction.orders.OrderPlaced']>().toEqualTypeOf<OrderPlaced>();
    expectTypeOf<OrderPlaced>().not.toEqualTypeOf<OrderPlacedV1>();
    expectTypeOf<OrderPlaced['placedAt']>().toEqualTypeOf<Date>();
    expectTypeOf<OrderPlaced['total']>().toEqualTypeOf<string>();
  });
});
