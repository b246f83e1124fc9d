/**
 * The SP's catalog boxes: named, ordered sets of catalog resources with a price, a validity and a
 * play mode. Only the SP changes them (recorded in the activity feed like other catalog changes);
 * users read them and subscribe to them (`BoxService.subscribe`).
 */
import { newUlid } from '../domain/ids.js';
import type { ActivityRecorder } from '../activity/activity-recorder.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { CmrError } from '../domain/errors.js';
import type { ActivityRecord, Box, PlayMode } from '../domain/types.js';
import type { JsonHash } from '../store/json-hash.js';

export interface CatalogBoxFields {
  name: string;
  resourceIds: string[];
  mode: PlayMode;
  price: number;
  currency: string;
  validityDays: number;
}

export class CatalogBoxService {
  constructor(
    private readonly boxes: JsonHash<Box>,
    private readonly catalog: CatalogService,
    private readonly activities: ActivityRecorder,
    private readonly now: () => Date,
  ) {}

  async list(): Promise<Box[]> {
    return (await this.boxes.all()).sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<Box> {
    const box = await this.boxes.get(id);
    if (!box) throw new CmrError('not-found', `box ${id} is not in the catalog`);
    return box;
  }

  async create(input: CatalogBoxFields & { id?: string }, actor: ActivityRecord['actor']): Promise<Box> {
    await this.checkResources(input.resourceIds);
    const at = this.now().toISOString();
    const box: Box = { ...fieldsOf(input), id: input.id ?? `b-${newUlid()}`, createdAt: at, updatedAt: at };
    if (!(await this.boxes.create(box))) throw new CmrError('conflict', `box ${box.id} already exists`);
    await this.noted(actor, 'create', box.id);
    return box;
  }

  async replace(id: string, input: CatalogBoxFields, actor: ActivityRecord['actor']): Promise<Box> {
    const current = await this.get(id);
    await this.checkResources(input.resourceIds);
    const box: Box = { ...fieldsOf(input), id, createdAt: current.createdAt, updatedAt: this.now().toISOString() };
    await this.boxes.put(box);
    await this.noted(actor, 'replace', id);
    return box;
  }

  /** Removes the box from the catalog; entries already subscribed through it keep their resources. */
  async remove(id: string, actor: ActivityRecord['actor']): Promise<void> {
    if (!(await this.boxes.remove(id))) throw new CmrError('not-found', `box ${id} is not in the catalog`);
    await this.noted(actor, 'delete', id);
  }

  private async checkResources(resourceIds: readonly string[]): Promise<void> {
    const found = await this.catalog.getMany(resourceIds);
    const missing = resourceIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw new CmrError('validation-failed', `resourceIds: not in the catalog: ${missing.join(', ')}`);
  }

  private noted(actor: ActivityRecord['actor'], action: string, boxId: string): Promise<void> {
    return this.activities.note({ actor, subject: null, kind: 'catalog', channel: 'rest', detail: { action, boxId } });
  }
}

/** Only the box's own fields, whatever else the input carried. */
function fieldsOf(input: CatalogBoxFields): Omit<Box, 'id' | 'createdAt' | 'updatedAt'> {
  const { name, resourceIds, mode, price, currency, validityDays } = input;
  return { name, resourceIds, mode, price, currency, validityDays };
}
