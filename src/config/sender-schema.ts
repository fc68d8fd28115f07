import { z } from 'zod';
import { DPOP_ALGORITHMS } from '../identity/sender/dpop-proof';
import type { DpopReplayStore } from '../identity/sender/dpop-replay';
import type { GetCertificate } from '../identity/sender/mtls';
import type { PublicUrl } from '../identity/sender/request-target';

const isFunction = (v: unknown) => typeof v === 'function';

/**
 * The plane's `dpop` option (RFC 9449), validated at construction: every field must take effect or
 * be refused here.
 *
 * @example
 * ```ts
 * dpopSchema.parse({ nonce: { rotateSec: 300 }, maxAgeSec: 60, publicUrl: 'https://api.example.com' });
 * ```
 */
export const dpopSchema = z
  .object({
    replayStore: z
      .custom<DpopReplayStore>(
        (v) => !!v && typeof v === 'object' && typeof (v as { use?: unknown }).use === 'function',
        { message: 'must be a DpopReplayStore (a use function)' },
      )
      .optional(),
    nonce: z
      .union([
        z.boolean(),
        z
          .object({
            secret: z
              .union([
                z.string().min(32),
                z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 32),
              ])
              .optional(),
            rotateSec: z.number().int().positive().optional(),
          })
          .strict(),
      ])
      .optional(),
    maxAgeSec: z.number().positive().max(3600).optional(),
    clockToleranceSec: z.number().nonnegative().max(300).optional(),
    algorithms: z.array(z.enum(DPOP_ALGORITHMS)).min(1).optional(),
    publicUrl: z
      .union([
        z
          .string()
          .regex(
            /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/,
            'must be an absolute http(s) URL without query or fragment',
          ),
        z.custom<(request: never) => string>(isFunction, { message: 'must be a string or a function' }),
      ])
      .optional(),
  })
  .strict();

/**
 * Plane fields for sender-constrained tokens: `dpop` (RFC 9449) and `getCertificate` (RFC 8705).
 *
 * @example
 * ```ts
 * const schema = oidcConfigSchema.extend({ ...planeFieldsShape, ...senderFieldsShape });
 * ```
 */
export const senderFieldsShape = {
  dpop: dpopSchema.optional(),
  getCertificate: z.custom<GetCertificate>(isFunction, { message: 'must be a function' }).optional(),
};

/** The validated `dpop` option; `publicUrl` keeps its declared type. */
export type DpopConfig = Omit<z.output<typeof dpopSchema>, 'publicUrl'> & { publicUrl?: PublicUrl };
