export default function setup(): void {
  throw new Error('fixture: the test stack could not start');
}
