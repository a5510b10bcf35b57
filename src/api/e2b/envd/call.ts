/** What an envd handler knows about the call it serves. */
export interface EnvdCall {
  owner: string;
  sandboxID: string;
  /** The sandbox user the call acts as. */
  user: string;
  /** Keeps the sandbox alive while a stream is attached; returns the detach function. */
  keepAlive(): () => void;
  /** True when the client parses envd messages strictly (agentbox): answers carry only the fields it knows. */
  strict: boolean;
}
