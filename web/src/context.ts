import { createContext, useContext } from 'react';
import type { Api } from './api/client.ts';
import type { Session } from './auth.ts';
import type { RuntimeConfig } from './config.ts';

export interface ConsoleContext {
  api: Api;
  session: Session;
  config: RuntimeConfig;
}

export const Console = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error('useConsole outside the signed-in console.');
  return value;
}
