import { readFileSync } from 'node:fs';
import { brokerAddress } from './internal/kafka.ts';
import { caFile, passwordFile, readPassword } from './internal/security.ts';
import { readRecord } from './internal/state.ts';

/** A user's SCRAM-SHA-512 credentials, for kafkajs's `sasl`. */
export interface KafkaCredentials {
  mechanism: 'scram-sha-512';
  username: string;
  password: string;
}

/** What a client of a secure stack needs; the shape of `KafkaConnection` in `@junction/events`. */
export interface SecureKafkaConnection {
  brokers: string[];
  /** The local CA's certificate, PEM. */
  ssl: { ca: string };
  sasl: KafkaCredentials;
}

/** TLS and SASL of a secure stack: its CA, its users and their credentials. */
export interface StackSecurity {
  /** The local CA's certificate (PEM file) that signed the brokers' certificate. */
  caFile: string;
  mechanism: 'scram-sha-512';
  /** Every SCRAM user: `admin` (super user), `registry`, and the users asked for. */
  users: string[];
  /** `<stateDir>/secrets/kafka/<user>.password`, mode 0600. */
  passwordFile(user: string): string;
  /** The user's credentials, read from its password file. */
  credentials(user: string): KafkaCredentials;
  /** Brokers, CA and credentials of `user`, ready for a client. */
  connection(user: string): SecureKafkaConnection;
  /** The environment a service process runs with to connect as `user` (the password by file, never in the environment). */
  env(user: string): Record<string, string>;
}

/** The {@link StackSecurity} of the secure stack in `stateDir`. */
export function stackSecurity(stateDir: string, brokers: string[], users: string[]): StackSecurity {
  const known = (user: string): string => {
    if (!users.includes(user)) throw new Error(`the stack has no Kafka user ${user}; it has ${users.join(', ')}`);
    return user;
  };
  const credentials = (user: string): KafkaCredentials => ({
    mechanism: 'scram-sha-512',
    username: known(user),
    password: readPassword(stateDir, user),
  });
  return {
    caFile: caFile(stateDir),
    mechanism: 'scram-sha-512',
    users: [...users],
    passwordFile: (user) => passwordFile(stateDir, known(user)),
    credentials,
    connection: (user) => ({ brokers: [...brokers], ssl: { ca: readFileSync(caFile(stateDir), 'utf8') }, sasl: credentials(user) }),
    env: (user) => ({
      JUNCTION_KAFKA_BROKERS: brokers.join(','),
      JUNCTION_KAFKA_SASL_USERNAME: known(user),
      JUNCTION_KAFKA_SASL_PASSWORD_FILE: passwordFile(stateDir, user),
      JUNCTION_KAFKA_CA_FILE: caFile(stateDir),
    }),
  };
}

/** The {@link StackSecurity} of the stack recorded in `stateDir`; undefined when it holds none or a plaintext one. */
export async function readStackSecurity(stateDir: string): Promise<StackSecurity | undefined> {
  const record = await readRecord(stateDir);
  if (!record?.security) return undefined;
  return stackSecurity(stateDir, record.kafka.map(brokerAddress), record.security.users);
}
