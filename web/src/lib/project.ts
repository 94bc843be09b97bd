import { useCallback, useSyncExternalStore } from 'react';
import { useSearchParams } from 'react-router-dom';
import { get } from './api';
import { useApi, type Loaded } from './useApi';
import { useSession } from './session';
import type { Project } from '../../../packages/sdk/src/contract/project-schemas';

export type { Project };
export type Role = NonNullable<Project['role']>;

/**
 * The project the UI shows (the header's switcher): `?project=` in the URL, else the last one chosen in this browser
 * (localStorage); null for all projects. The experiment and model lists show the chosen project's, and what the UI
 * creates goes into it.
 */
const KEY = 'kiln.project';
const listeners = new Set<() => void>();
let version = 0;

function read(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function write(name: string | null): void {
  try {
    if (name === null) window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, name);
  } catch {
    // Storage may be unavailable (private windows, quotas): the URL still carries the choice.
  }
  notify();
}

function notify(): void {
  for (const l of listeners) l();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  const onStorage = (e: StorageEvent) => e.key === KEY && l();
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(l);
    window.removeEventListener('storage', onStorage);
  };
}

/** The project remembered in this browser (null: all). */
export function useStoredProject(): string | null {
  return useSyncExternalStore(subscribe, read);
}

/** Forgets the remembered project (one the signed-in user can't see, say). */
export function forgetStoredProject(): void {
  write(null);
}

/** Remembers a project (one the URL named) without changing the URL. */
export function rememberProject(name: string): void {
  if (read() !== name) write(name);
}

/** The chosen project (null: all projects), where it came from, and how to choose another (URL and localStorage). */
export function useProject(): { project: string | null; fromUrl: boolean; setProject: (name: string | null) => void } {
  const [params, setParams] = useSearchParams();
  const stored = useStoredProject();
  const inUrl = params.get('project');
  const setProject = useCallback(
    (name: string | null) => {
      write(name);
      setParams((p) => {
        if (name === null) p.delete('project');
        else p.set('project', name);
        return p;
      });
    },
    [setParams],
  );
  return { project: inUrl || stored, fromUrl: !!inUrl, setProject };
}

/** Tells the project lists (the switcher's, the projects page's) that projects changed. */
export function projectsChanged(): void {
  version++;
  notify();
}

let shared: { key: string; at: number; list: Promise<Project[]> } | undefined;

/**
 * The caller's projects with its role in each (GET /projects): one request for the lists a page shows at once (the
 * switcher's, the page's), asked again after projectsChanged(), for another user, or after a few seconds.
 */
export function useProjects(): Loaded<Project[]> {
  const v = useSyncExternalStore(subscribe, () => version);
  const key = `${v}:${useSession().session.user}`;
  return useApi(() => {
    if (shared?.key !== key || Date.now() - shared.at > 5000) {
      const list = get<{ projects: Project[] }>('/projects').then((r) => r.projects);
      shared = { key, at: Date.now(), list };
      // A failed answer is not kept: the next list asks again.
      list.catch(() => shared?.list === list && (shared = undefined));
    }
    return shared.list;
  }, [key]);
}

/** Whether a role may manage a project (its description, everyone's role, members): owners, and admins (who are owners everywhere). */
export const canManage = (role: Role | undefined): boolean => role === 'owner';

/** Whether a role may create in a project (experiments, models). */
export const canEdit = (role: Role | undefined): boolean => role === 'editor' || role === 'maintainer' || role === 'owner';

export const ROLES: readonly Role[] = ['viewer', 'editor', 'maintainer', 'owner'];
