/**
 * The SP's catalog of resources and its registry of CMR clients.
 * Withdrawing is how a resource leaves the catalog: it stays readable so the libraries that hold
 * it keep their history, and is never presented, subscribed or copied again.
 */
import { newUlid } from '../domain/ids.js';
import { CmrError } from '../domain/errors.js';
import type { CmrClient, Resource } from '../domain/types.js';
import type { JsonHash } from '../store/json-hash.js';

export type ResourceInput = Omit<Resource, 'id' | 'createdAt' | 'updatedAt' | 'status'> & {
  id?: string;
  status?: Resource['status'];
};

export interface ResourceQuery {
  type?: Resource['type'];
  category?: string;
  status?: Resource['status'];
}

export class CatalogService {
  constructor(
    private readonly resources: JsonHash<Resource>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(id: string): Promise<Resource> {
    const resource = await this.resources.get(id);
    if (!resource) throw new CmrError('not-found', `resource ${id} is not in the catalog`);
    return resource;
  }

  /** Resources for `ids` (absent ones left out), in one round trip. */
  async getMany(ids: readonly string[]): Promise<Map<string, Resource>> {
    const found = await this.resources.getMany([...new Set(ids)]);
    return new Map(found.filter((r): r is Resource => r !== null).map((r) => [r.id, r]));
  }

  async list(query: ResourceQuery = {}): Promise<Resource[]> {
    const all = await this.resources.all();
    return all
      .filter((r) => (query.type ? r.type === query.type : true))
      .filter((r) => (query.category ? r.categories.includes(query.category) : true))
      .filter((r) => (query.status ? r.status === query.status : true))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async create(input: ResourceInput): Promise<Resource> {
    const at = this.now().toISOString();
    const resource: Resource = { ...input, id: input.id ?? `r-${newUlid()}`, status: input.status ?? 'available', createdAt: at, updatedAt: at };
    if (!(await this.resources.create(resource))) {
      throw new CmrError('conflict', `resource ${resource.id} already exists`);
    }
    return resource;
  }

  async replace(id: string, input: Omit<ResourceInput, 'id'>): Promise<Resource> {
    const current = await this.get(id);
    const resource: Resource = { ...input, id, status: input.status ?? current.status, createdAt: current.createdAt, updatedAt: this.now().toISOString() };
    await this.resources.put(resource);
    return resource;
  }

  async withdraw(id: string): Promise<void> {
    const current = await this.get(id);
    if (current.status === 'withdrawn') return;
    await this.resources.put({ ...current, status: 'withdrawn', updatedAt: this.now().toISOString() });
  }
}

export type ClientInput = Omit<CmrClient, 'createdAt' | 'updatedAt'>;

export class ClientRegistry {
  constructor(
    private readonly clients: JsonHash<CmrClient>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(id: string): Promise<CmrClient> {
    const client = await this.clients.get(id);
    if (!client) throw new CmrError('not-found', `client ${id} is not registered`);
    return client;
  }

  /** The client or null: for validation paths that answer with their own reason. */
  find(id: string): Promise<CmrClient | null> {
    return this.clients.get(id);
  }

  async list(): Promise<CmrClient[]> {
    return (await this.clients.all()).sort((a, b) => a.id.localeCompare(b.id));
  }

  async create(input: ClientInput): Promise<CmrClient> {
    const at = this.now().toISOString();
    const client: CmrClient = { ...input, createdAt: at, updatedAt: at };
    if (!(await this.clients.create(client))) throw new CmrError('conflict', `client ${input.id} already exists`);
    return client;
  }

  async replace(id: string, input: Omit<ClientInput, 'id'>): Promise<CmrClient> {
    const current = await this.get(id);
    const client: CmrClient = { ...input, id, createdAt: current.createdAt, updatedAt: this.now().toISOString() };
    await this.clients.put(client);
    return client;
  }

  async remove(id: string): Promise<void> {
    if (!(await this.clients.remove(id))) throw new CmrError('not-found', `client ${id} is not registered`);
  }
}
