import { useEffect, useRef } from 'react';

export const SHORTCUTS: readonly { key: string; description: string }[] = [
  { key: 'j', description: 'Next draft in the list' },
  { key: 'k', description: 'Previous draft in the list' },
  { key: 'Enter', description: 'Open the selected draft' },
  { key: 'a', description: 'Approve the open draft' },
  { key: 'r', description: 'Reject the open draft' },
  { key: 'e', description: 'Escalate the open draft' },
  { key: '?', description: 'Show these shortcuts' },
];

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Single-key shortcuts, ignored while the user types in a field or holds a modifier. */
export function useShortcuts(handlers: Record<string, () => void>): void {
  const current = useRef(handlers);
  current.current = handlers;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const handler = current.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
    };
  }, []);
}
