/** Junction's auth service. */
export {};
