/** `/v1/users/{uid}/charges` and `/v1/charges` (SP): charge records, newest first, cursor-paged. */
import type { App } from '../../app.js';
import type { Services } from '../../../wiring.js';
import { ChargePage, ChargeRecord } from '../../schemas/charging.js';
import { PageQuery, UidParams } from '../../schemas/common.js';

export async function chargeRoutes(app: App, { charges }: Services): Promise<void> {
  app.addSchema(ChargeRecord);
  const tags = ['charging'];

  app.get(
    '/users/:uid/charges',
    {
      config: { access: 'self' },
      schema: { tags, operationId: 'listUserCharges', summary: "A user's charges, newest first", params: UidParams, querystring: PageQuery, response: { 200: ChargePage } },
    },
    async (request) => charges.forUser(request.uid, request.query.limit ?? 50, request.query.cursor),
  );

  app.get(
    '/charges',
    { config: { access: 'sp' }, schema: { tags, operationId: 'listCharges', summary: 'All charges, newest first', querystring: PageQuery, response: { 200: ChargePage } } },
    async (request) => charges.all(request.query.limit ?? 50, request.query.cursor),
  );
}
