export { checkOrder, nextStatus, type OrderStatus, type PlaceOrderBody, placeOrderBody, type RuleProblem } from './domain/order.ts';
export { ordersService } from './service.ts';
