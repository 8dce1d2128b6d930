import fc from 'fast-check';
import {
  fromPlain,
  isObject,
  type JsonNode,
  type JsonObject,
  RawJson,
  serialize,
} from './json-model.ts';

/** Which request shape a body starts from. */
export type BodyShape = 'get_token' | 'legacy';

type Kind = 's' | 'i' | 'o';

// The fields of the two request shapes (as the reference defines them) and which must be set.
const OPENID: Record<string, Kind> = {
  openid_token: 'o',
  'openid_token.access_token': 's',
  'openid_token.token_type': 's',
  'openid_token.matrix_server_name': 's',
  'openid_token.expires_in': 'i',
};
const DELAY: Record<string, Kind> = { delay_id: 's', delay_timeout: 'i', delay_cs_api_url: 's' };
const FIELDS: Record<BodyShape, Record<string, Kind>> = {
  get_token: {
    room_id: 's',
    slot_id: 's',
    member: 'o',
    'member.id': 's',
    'member.claimed_user_id': 's',
    'member.claimed_device_id': 's',
    ...OPENID,
    ...DELAY,
  },
  legacy: { room: 's', device_id: 's', ...OPENID, ...DELAY },
};
const REQUIRED: Record<BodyShape, readonly string[]> = {
  get_token: [
    'room_id',
    'slot_id',
    'member',
    'member.id',
    'member.claimed_user_id',
    'member.claimed_device_id',
    'openid_token',
    'openid_token.access_token',
    'openid_token.matrix_server_name',
  ],
  legacy: ['room', 'openid_token', 'openid_token.access_token', 'openid_token.matrix_server_name'],
};

/** The access token the fake verifier accepts; unmutated bodies carry it. */
export const VALID_TOKEN = 'valid-token';

/** A well-formed body of each shape, for `serverName`. */
export function baseBody(shape: BodyShape, serverName: string): unknown {
  const openid_token = {
    access_token: VALID_TOKEN,
    token_type: 'Bearer',
    matrix_server_name: serverName,
    expires_in: 3600,
  };
  return shape === 'get_token'
    ? {
        room_id: '!room:example.com',
        slot_id: 'm.call#ROOM',
        openid_token,
        member: {
          id: 'member1',
          claimed_user_id: `@alice:${serverName}`,
          claimed_device_id: 'DEV',
        },
      }
    : { room: '!room:example.com', openid_token, device_id: 'DEV' };
}

const WEIRD = [
  '\ud800',
  '\udfff',
  '\udbff\udfff',
  '\u2028',
  '\u2029',
  '\u0000',
  '\u001f',
  '\ufeff',
  '\ufffe',
  '"',
  '\\',
  '/',
  '<&>',
  '\u00e9',
  '\u{1F4A9}',
  'e\u0301',
  '%00',
  '../',
  ':',
  '@',
] as const;

/** Strings: any code point, the awkward ones (lone surrogates, U+2028, NUL, BOM), and lengths at the 4096 cap. */
export const textArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...WEIRD), maxLength: 8 }),
  fc.string({
    unit: fc.oneof(fc.constantFrom(...WEIRD), fc.string({ minLength: 1, maxLength: 1 })),
    maxLength: 20,
  }),
  fc.constantFrom(0, 1, 255, 4095, 4096, 4097, 70_000).map((n) => 'a'.repeat(n)),
  fc.constantFrom(4095, 4096, 4097).map((n) => '\u{1F4A9}'.repeat(Math.ceil(n / 2))),
);

/** Number literals, many beyond what a double or an int64 holds. */
export const numberArbitrary: fc.Arbitrary<RawJson> = fc
  .oneof(
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom(
      '0',
      '-0',
      '1e3',
      '3600.5',
      '9007199254740993',
      '9223372036854775807',
      '9223372036854775808',
      '-9223372036854775808',
      '-9223372036854775809',
      '1e309',
      '-1e309',
      '1E-400',
      '0.0',
      '123456789012345678901234567890123456789',
    ),
  )
  .map((text) => new RawJson(text));

const leafArbitrary: fc.Arbitrary<JsonNode> = fc.oneof(
  textArbitrary,
  numberArbitrary,
  fc.boolean(),
  fc.constant(null),
);

/** Keys no request shape has. */
const unknownKey = fc.string({ unit: 'binary', maxLength: 8 }).map((k) => `x_${k}`);

/** Any JSON value, nested a few levels, objects with unknown keys only. */
export const valueArbitrary: fc.Arbitrary<JsonNode> = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArbitrary,
    fc.array(tie('node'), { maxLength: 4 }),
    fc
      .array(fc.tuple(unknownKey, tie('node')), { maxLength: 3 })
      .map((entries): JsonObject => ({ entries })),
  ),
})).node;

type TreeMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly value: JsonNode }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'add'; readonly at: number; readonly key: string; readonly value: JsonNode }
  | { readonly kind: 'duplicate'; readonly at: number }
  | { readonly kind: 'top'; readonly value: JsonNode };

type ByteMutation =
  | { readonly kind: 'trailing'; readonly bytes: Uint8Array }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'bad_utf8'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'deep'; readonly depth: number }
  | { readonly kind: 'bom' }
  | { readonly kind: 'whitespace' }
  | { readonly kind: 'random'; readonly bytes: Uint8Array };

const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: valueArbitrary }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: unknownKey,
    value: valueArbitrary,
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('top' as const), value: valueArbitrary }),
);

const nonBlank = fc
  .uint8Array({ minLength: 1, maxLength: 16 })
  .filter((b) => b.some((x) => ![0x20, 0x09, 0x0a, 0x0d].includes(x)));

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('trailing' as const), bytes: nonBlank }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('bad_utf8' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      Uint8Array.of(0xff),
      Uint8Array.of(0xc0, 0x80),
      Uint8Array.of(0xed, 0xa0, 0x80),
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
      Uint8Array.of(0xe2, 0x82),
    ),
  }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 33, max: 20_000 }) }),
  fc.constant({ kind: 'bom' as const }),
  fc.constant({ kind: 'whitespace' as const }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

/** A generated token request body and whether it is certainly invalid. */
export interface TokenBodyCase {
  readonly endpoint: '/get_token' | '/sfu/get';
  readonly shape: BodyShape;
  readonly body: Buffer;
  /** Certainly refused before verification (wrong type, unknown or duplicate key, bad bytes…). */
  readonly invalid: boolean;
  /** What was done to the body, for the failure report. */
  readonly mutations: readonly string[];
}

/** Bodies shaped like the real requests, with fields mutated in every way the decoder must survive. */
export function tokenBodyArbitrary(serverName: string): fc.Arbitrary<TokenBodyCase> {
  return fc
    .record({
      shape: fc.constantFrom<BodyShape>('get_token', 'legacy'),
      cross: fc.integer({ min: 0, max: 9 }),
      tree: fc.array(treeMutation, { maxLength: 3 }),
      bytes: fc.option(byteMutation, { freq: 3 }),
    })
    .map(({ shape, cross, tree, bytes }) => {
      // Mostly the endpoint of the shape; one in ten the other one.
      const own = shape === 'get_token' ? '/get_token' : '/sfu/get';
      const endpoint = cross === 0 ? (own === '/get_token' ? '/sfu/get' : '/get_token') : own;
      // A legacy body is never a valid /get_token body; a /get_token body is also valid on /sfu/get.
      let root = fromPlain(baseBody(shape, serverName));
      const notes: string[] = [`${shape} body to ${endpoint}`];
      for (const m of tree) {
        const result = applyTree(root, m);
        root = result.root;
        notes.push(result.note);
      }
      let invalid =
        (endpoint === '/get_token' && shape === 'legacy') || certainlyInvalid(root, shape);
      let text: Buffer = Buffer.from(serialize(root), 'utf8');
      if (bytes !== null) {
        const result = applyBytes(text, bytes);
        text = result.body;
        // Random bytes replace the body: only their own validity counts.
        invalid = bytes.kind === 'random' ? result.invalid : invalid || result.invalid;
        notes.push(bytes.kind);
      }
      const result: TokenBodyCase = { endpoint, shape, body: text, invalid, mutations: notes };
      return result;
    });
}

interface Slot {
  readonly path: string;
  readonly parent: JsonObject;
  readonly index: number;
}

function slots(node: JsonNode, prefix = ''): Slot[] {
  if (!isObject(node)) return [];
  return node.entries.flatMap(([key, value], index) => [
    { path: prefix + key, parent: node, index },
    ...slots(value, `${prefix}${key}.`),
  ]);
}

function objects(node: JsonNode, prefix = ''): { path: string; node: JsonObject }[] {
  if (!isObject(node)) return [];
  return [
    { path: prefix, node },
    ...node.entries.flatMap(([key, value]) => objects(value, `${prefix}${key}.`)),
  ];
}

/** Rebuilds the tree with `replacement` for the object `target`. */
function swap(node: JsonNode, target: JsonObject, replacement: JsonObject): JsonNode {
  if (node === target) return replacement;
  if (!isObject(node)) return node;
  return { entries: node.entries.map(([k, v]) => [k, swap(v, target, replacement)] as const) };
}

function applyTree(root: JsonNode, m: TreeMutation): { root: JsonNode; note: string } {
  if (m.kind === 'top') return { root: m.value, note: 'replace the whole body' };
  if (m.kind === 'add') {
    const all = objects(root);
    const target = all[m.at % Math.max(all.length, 1)];
    if (target === undefined) return { root, note: 'add (no object)' };
    const entries = [...target.node.entries, [m.key, m.value] as const];
    return { root: swap(root, target.node, { entries }), note: `add ${target.path}${m.key}` };
  }
  const all = slots(root);
  const slot = all[m.at % Math.max(all.length, 1)];
  if (slot === undefined) return { root, note: `${m.kind} (no field)` };
  const entry = slot.parent.entries[slot.index] as readonly [string, JsonNode];
  if (m.kind === 'duplicate') {
    const entries = [...slot.parent.entries, entry];
    return { root: swap(root, slot.parent, { entries }), note: `duplicate ${slot.path}` };
  }
  if (m.kind === 'delete') {
    const entries = slot.parent.entries.filter((_, i) => i !== slot.index);
    return { root: swap(root, slot.parent, { entries }), note: `delete ${slot.path}` };
  }
  const entries = slot.parent.entries.map((e, i) =>
    i === slot.index ? ([e[0], m.value] as const) : e,
  );
  return {
    root: swap(root, slot.parent, { entries }),
    note: `replace ${slot.path} with ${describe(m.value)}`,
  };
}

/**
 * Whether the reference's decoder certainly refuses the body before verification: not an
 * object, a duplicate or unknown key at any level, a value of the wrong type or too long, or a
 * required field absent, null or empty. (Anything else may or may not be valid.)
 */
function certainlyInvalid(root: JsonNode, shape: BodyShape): boolean {
  if (!isObject(root) || objectInvalid(root, shape, '')) return true;
  return REQUIRED[shape].some((path) => {
    let node: JsonNode | undefined = root;
    for (const key of path.split('.')) {
      const parent: JsonNode | undefined = node;
      node =
        parent !== undefined && isObject(parent)
          ? parent.entries.find(([k]) => k === key)?.[1]
          : undefined;
    }
    return node === undefined || node === null || node === '';
  });
}

function objectInvalid(object: JsonObject, shape: BodyShape, prefix: string): boolean {
  const keys = object.entries.map(([k]) => k);
  if (new Set(keys).size !== keys.length) return true;
  return object.entries.some(([key, value]) => {
    const kind = FIELDS[shape][prefix + key];
    if (kind === undefined) return true;
    if (kind !== 'o') return refuses(kind, value, false);
    if (value === null) return false;
    return !isObject(value) || objectInvalid(value, shape, `${prefix}${key}.`);
  });
}

/** Whether the reference's decoder certainly refuses `value` for a field of `kind`. */
function refuses(kind: Kind, value: JsonNode, required: boolean): boolean {
  if (value === null) return required;
  if (kind === 's') {
    if (typeof value !== 'string') return true;
    return value.length > 4096 || (required && value === '');
  }
  if (kind === 'i') {
    if (!(value instanceof RawJson) || !/^-?\d+$/.test(value.text)) return true;
    const big = BigInt(value.text);
    return big < -(2n ** 63n) || big > 2n ** 63n - 1n;
  }
  // openid_token and member hold required fields: any replacement lacks them or adds unknown keys.
  return true;
}

function describe(value: JsonNode): string {
  const text = serialize(value);
  return text.length > 60 ? `${text.slice(0, 60)}… (${text.length} chars)` : text;
}

function applyBytes(body: Buffer, m: ByteMutation): { body: Buffer; invalid: boolean } {
  switch (m.kind) {
    case 'trailing':
      return { body: Buffer.concat([body, m.bytes]), invalid: true };
    case 'truncate':
      return { body: body.subarray(0, m.at % body.length), invalid: true };
    case 'bad_utf8': {
      const at = m.at % (body.length + 1);
      return {
        body: Buffer.concat([body.subarray(0, at), m.bytes, body.subarray(at)]),
        invalid: true,
      };
    }
    case 'deep':
      return {
        body: Buffer.from(`${'['.repeat(m.depth)}${body.toString('utf8')}${']'.repeat(m.depth)}`),
        invalid: true,
      };
    case 'bom':
      // A BOM is not JSON whitespace; serde refuses it.
      return { body: Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), body]), invalid: false };
    case 'whitespace':
      return { body: Buffer.from(` \t\r\n${body.toString('utf8')}\n\t `), invalid: false };
    case 'random':
      return { body: Buffer.from(m.bytes), invalid: false };
  }
}
