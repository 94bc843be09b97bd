import type { ResourceKind } from './rules.js';
import { notFound } from '../errors.js';
import { DEFAULT_PROJECT, DEFAULT_PROJECT_ID } from './access.js';

/** Where a resource belongs: its project, and the experiment or registered model a grant on it would name. */
export interface ResourceOwner {
  readonly projectId: number;
  /** The experiment a grant applies through (an experiment, or a run or logged model in it). */
  readonly experimentId?: string;
  /** The registered model a grant applies through (the model, or one of its versions). */
  readonly registeredModel?: string;
}

/**
 * Finds the owner of a resource by the id a route names it with; undefined when there is no such resource (a caller
 * who is no admin then gets the same 404, word for word, as for one it may not read; admins reach the handler, which
 * answers its own 404). May throw a KilnError for ids that can never name one the caller may act on.
 */
export type ResourceResolver = (id: string) => Promise<ResourceOwner | undefined>;

/**
 * The resolvers each capability registers for the resources it owns (tracking: experiments, runs, logged models,
 * artifacts; registry: registered models; ...), which the governance capability calls to decide a route's rule.
 * Capabilities never read each other's tables: they ask through here.
 */
export class ResourceDirectory {
  private readonly resolvers = new Map<ResourceKind, ResourceResolver>();
  private readonly usage: ((projectId: number) => Promise<boolean>)[] = [];
  private nameOf: ((projectId: number) => Promise<string | undefined>) | undefined;
  /** Project names by id, kept per process (a project is never renamed; the owner drops them on a create or delete). */
  private readonly names = new Map<number, Promise<string | undefined>>();

  /** Registers a check that says whether a project still holds something of the capability's (a project is deleted only empty). */
  registerUsage(holds: (projectId: number) => Promise<boolean>): void {
    this.usage.push(holds);
  }

  /** Whether any capability still holds something in the project. */
  async inUse(projectId: number): Promise<boolean> {
    for (const holds of this.usage) if (await holds(projectId)) return true;
    return false;
  }

  /** Registers how a project's name is found from its id (the capability that owns projects). */
  registerProjectNames(lookup: (projectId: number) => Promise<string | undefined>): void {
    if (this.nameOf) throw new Error('a project name lookup is registered twice');
    this.nameOf = lookup;
  }

  /** Drops the cached project names (after a project is created or deleted). */
  forgetProjectNames(): void {
    this.names.clear();
  }

  /**
   * The name of a project by id, for resources' JSON; cached per process. The default project when none is named
   * (or no capability owns projects); `#<id>` for an id no project has (any more).
   */
  async projectName(projectId: number | undefined): Promise<string> {
    const id = projectId ?? DEFAULT_PROJECT_ID;
    if (!this.nameOf) return id === DEFAULT_PROJECT_ID ? DEFAULT_PROJECT : `#${id}`;
    let hit = this.names.get(id);
    if (!hit) {
      if (this.names.size >= 10_000) this.names.clear();
      hit = this.nameOf(id);
      this.names.set(id, hit);
      // A failed or empty lookup is not kept: the next call asks again.
      hit.then(
        (n) => n === undefined && this.names.delete(id),
        () => this.names.delete(id),
      );
    }
    return (await hit) ?? (id === DEFAULT_PROJECT_ID ? DEFAULT_PROJECT : `#${id}`);
  }

  /** The id of an existing project by name, or undefined (for filters: an unknown name matches nothing). */
  async findProject(name: string): Promise<number | undefined> {
    if (name === DEFAULT_PROJECT) return DEFAULT_PROJECT_ID;
    if (!this.resolvers.has('project')) return undefined;
    return (await this.resolve('project', name))?.projectId;
  }

  register(kind: ResourceKind, resolver: ResourceResolver): void {
    if (this.resolvers.has(kind)) throw new Error(`a resolver for '${kind}' is registered twice`);
    this.resolvers.set(kind, resolver);
  }

  has(kind: ResourceKind): boolean {
    return this.resolvers.has(kind);
  }

  /** The id of the project a new resource names (the default project when it names none); 404 for an unknown one. */
  async projectId(name: string | undefined): Promise<number> {
    if (name === undefined || name === '') return DEFAULT_PROJECT_ID;
    const id = await this.findProject(name);
    if (id === undefined) throw notFound(`Project '${name}' does not exist.`);
    return id;
  }

  async resolve(kind: ResourceKind, id: string): Promise<ResourceOwner | undefined> {
    const r = this.resolvers.get(kind);
    if (!r) throw new Error(`no capability resolves '${kind}' resources`);
    return r(id);
  }
}
