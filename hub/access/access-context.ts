/**
 * What users, login sessions and sensor tokens share (access-control.ts wires them): where
 * their changes are persisted, the clock, and who hears that rights changed.
 */
import type { AccessChange } from './access-records.ts';

/** What changed about a user's rights (onPrincipalChanged). */
export type PrincipalChange = 'logout' | 'deleted' | 'password' | 'access';
export type PrincipalListener = (user: string, kind: PrincipalChange, sessionSha256?: string) => void;

export interface AccessContext {
  /** the store: every change is written before it is answered, and applied in memory only once written */
  persist(changes: AccessChange[]): Promise<void>;
  now(): number;
  readonly events: AccessEvents;
}

/** Who is told when rights change under connections admitted earlier. Listeners must not throw. */
export class AccessEvents {
  private readonly principalListeners: PrincipalListener[] = [];
  private readonly sensorRuleListeners: (() => void)[] = [];

  onPrincipalChanged(listener: PrincipalListener): void {
    this.principalListeners.push(listener);
  }

  onSensorRulesChanged(listener: () => void): void {
    this.sensorRuleListeners.push(listener);
  }

  principalChanged(user: string, kind: PrincipalChange, sessionSha256?: string): void {
    for (const l of this.principalListeners) l(user, kind, sessionSha256);
  }

  sensorRulesChanged(): void {
    for (const l of this.sensorRuleListeners) l();
  }
}
