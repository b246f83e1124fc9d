/** `/v1/users/{uid}/preferences` and `/privacy`: time zone, default, presentation rules, filters, privacy. */
import { Type } from 'typebox';
import { CmrError } from '../../../domain/errors.js';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import {
  DefaultAnswer,
  DefaultBody,
  FilterAnswer,
  FilterInput,
  FilterParams,
  FilterReplace,
  FilterRule,
  IdempotencyHeaders,
  Preferences,
  PreferencesAnswer,
  PresentationRule,
  Privacy,
  PrivacyAnswer,
  RuleAnswer,
  RuleInput,
  RuleParams,
  RuleReplace,
  TimezoneAnswer,
  TimezoneBody,
} from '../../schemas/management.js';
import { sendOutcome } from '../../idempotency-key.js';
import { actionRefusals, requesterOf } from './requests.js';

const REFERENCES =
  'A rule or the default may present only a resource the user holds actively or a box the user may use ' +
  '(an own personal box, or a subscribed catalog box); a reference the stored preferences already make is kept as it is.';

export async function preferencesRoutes(app: App, { management }: Services): Promise<void> {
  const { preferences } = management;
  const tags = ['preferences'];
  const write = { config: { access: 'self' as const } };
  const changeResponses = (status: number, body: unknown) => ({ [status]: body, ...actionRefusals });

  app.get(
    '/users/:uid/preferences',
    { config: { access: 'self' }, schema: { tags, operationId: 'getPreferences', summary: "The user's preferences", params: UidParams, response: { 200: Preferences } } },
    async (request) => preferences.get(request.uid),
  );

  app.put(
    '/users/:uid/preferences',
    {
      ...write,
      schema: {
        tags,
        operationId: 'replacePreferences',
        summary: 'Replace the whole preferences document',
        description: `Time zone (IANA), default, rules, filters and privacy; identities are stored canonical. ${REFERENCES}`,
        params: UidParams,
        headers: IdempotencyHeaders,
        body: Preferences,
        response: changeResponses(200, PreferencesAnswer),
      },
    },
    async (request, reply) => sendOutcome(reply, 200, await preferences.replace(requesterOf(request), request.body)),
  );

  app.put(
    '/users/:uid/preferences/timezone',
    {
      ...write,
      schema: {
        tags,
        operationId: 'setTimezone',
        summary: 'Set the time zone in which the rules are read',
        description:
          'Body: `{"timezone": "Europe/Paris"}`, an IANA zone name (any letter case; stored as the zone spells it). Times of day, days and dates of every rule are read in it; the rest of the preferences is left as it is.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: TimezoneBody,
        response: changeResponses(200, TimezoneAnswer),
      },
    },
    async (request, reply) => {
      if (request.body === undefined) throw new CmrError('validation-failed', 'body is required: {"timezone": "Europe/Paris"}');
      return sendOutcome(reply, 200, await preferences.setTimezone(requesterOf(request), request.body.timezone));
    },
  );

  app.put(
    '/users/:uid/preferences/default',
    {
      ...write,
      schema: {
        tags,
        operationId: 'setDefault',
        summary: 'Set what callers are presented when no rule matches',
        description: `Body: \`{"resourceId": …}\`, \`{"boxId": …}\` or \`null\` for nothing. ${REFERENCES}`,
        params: UidParams,
        headers: IdempotencyHeaders,
        body: DefaultBody,
        response: changeResponses(200, DefaultAnswer),
      },
    },
    async (request, reply) => {
      // An absent body passes validation as null; clearing the default takes an explicit null.
      if (request.body === undefined) throw new CmrError('validation-failed', 'body is required: {"resourceId": …}, {"boxId": …} or null');
      return sendOutcome(reply, 200, await preferences.setDefault(requesterOf(request), request.body));
    },
  );

  app.get(
    '/users/:uid/preferences/rules',
    {
      config: { access: 'self' },
      schema: { tags, operationId: 'listRules', summary: 'The presentation rules', params: UidParams, response: { 200: Type.Array(PresentationRule) } },
    },
    async (request) => (await preferences.get(request.uid)).rules,
  );

  app.post(
    '/users/:uid/preferences/rules',
    {
      ...write,
      schema: {
        tags,
        operationId: 'addRule',
        summary: 'Add a presentation rule',
        description:
          'Among matching rules the lowest `priority` wins; ties go to the more specific rule. Conditions (callers, time of day wrapping midnight, ' +
          `ISO days of week, inclusive date range) are read in the user's time zone. ${REFERENCES}`,
        params: UidParams,
        headers: IdempotencyHeaders,
        body: RuleInput,
        response: changeResponses(201, RuleAnswer),
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await preferences.addRule(requesterOf(request), { enabled: true, ...request.body })),
  );

  app.put(
    '/users/:uid/preferences/rules/:ruleId',
    {
      ...write,
      schema: { tags, operationId: 'replaceRule', summary: 'Replace a presentation rule', params: RuleParams, headers: IdempotencyHeaders, body: RuleReplace, response: changeResponses(200, RuleAnswer) },
    },
    async (request, reply) => sendOutcome(reply, 200, await preferences.replaceRule(requesterOf(request), request.params.ruleId, request.body)),
  );

  app.delete(
    '/users/:uid/preferences/rules/:ruleId',
    {
      ...write,
      schema: { tags, operationId: 'deleteRule', summary: 'Delete a presentation rule', params: RuleParams, headers: IdempotencyHeaders, response: changeResponses(204, Type.Null()) },
    },
    async (request, reply) => sendOutcome(reply, 204, await preferences.deleteRule(requesterOf(request), request.params.ruleId)),
  );

  app.get(
    '/users/:uid/preferences/filters',
    { config: { access: 'self' }, schema: { tags, operationId: 'listFilters', summary: 'The filter rules', params: UidParams, response: { 200: Type.Array(FilterRule) } } },
    async (request) => (await preferences.get(request.uid)).filters,
  );

  app.post(
    '/users/:uid/preferences/filters',
    {
      ...write,
      schema: {
        tags,
        operationId: 'addFilter',
        summary: 'Add a filter rule',
        description: 'What the user refuses to be presented: a rule refuses what matches every criterion it sets (at least one).',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: FilterInput,
        response: changeResponses(201, FilterAnswer),
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await preferences.addFilter(requesterOf(request), request.body)),
  );

  app.put(
    '/users/:uid/preferences/filters/:filterId',
    {
      ...write,
      schema: { tags, operationId: 'replaceFilter', summary: 'Replace a filter rule', params: FilterParams, headers: IdempotencyHeaders, body: FilterReplace, response: changeResponses(200, FilterAnswer) },
    },
    async (request, reply) => sendOutcome(reply, 200, await preferences.replaceFilter(requesterOf(request), request.params.filterId, request.body)),
  );

  app.delete(
    '/users/:uid/preferences/filters/:filterId',
    {
      ...write,
      schema: { tags, operationId: 'deleteFilter', summary: 'Delete a filter rule', params: FilterParams, headers: IdempotencyHeaders, response: changeResponses(204, Type.Null()) },
    },
    async (request, reply) => sendOutcome(reply, 204, await preferences.deleteFilter(requesterOf(request), request.params.filterId)),
  );

  app.put(
    '/users/:uid/privacy',
    {
      ...write,
      schema: {
        tags,
        operationId: 'setPrivacy',
        summary: "Set the user's privacy",
        description: 'Who may copy from the user and give the user gifts (everyone, contacts, nobody); `blocked` users are refused both and presented nothing.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: Privacy,
        response: changeResponses(200, PrivacyAnswer),
      },
    },
    async (request, reply) => sendOutcome(reply, 200, await preferences.setPrivacy(requesterOf(request), request.body)),
  );
}
