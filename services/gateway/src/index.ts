/** Junction's gateway service. */
export {};
