// The migration modes and the pure checks on them: a leaf module, so the control store's types and the
// mode resolver can both name a mode without importing each other.

/**
 * The four migration modes, in cutover order (DESIGN.md, Migration):
 *
 * | mode | who decides | the other side |
 * |---|---|---|
 * | `legacy` | legacy | nothing; target credentials get `provider_disabled` |
 * | `shadow` | legacy | the target verifies a paired credential off the hot path; differences are counted |
 * | `dual` | whichever provider issued the credential (routed, never "try A then B") | — |
 * | `target` | target | legacy credentials get `provider_disabled` |
 *
 * @example
 * ```ts
 * MIGRATION_MODES.indexOf('dual'); // 2
 * ```
 */
export const MIGRATION_MODES = ['legacy', 'shadow', 'dual', 'target'] as const;

/**
 * One migration mode.
 *
 * @example
 * ```ts
 * const mode: MigrationMode = 'shadow';
 * ```
 */
export type MigrationMode = (typeof MIGRATION_MODES)[number];

/**
 * Whether a string is a migration mode.
 *
 * @example
 * ```ts
 * isMigrationMode('dual'); // true
 * ```
 */
export function isMigrationMode(value: unknown): value is MigrationMode {
  return typeof value === 'string' && (MIGRATION_MODES as readonly string[]).includes(value);
}

/**
 * Which side's credentials a mode accepts: legacy in `legacy`, `shadow` and `dual`; target in `dual`
 * and `target`.
 *
 * @example
 * ```ts
 * modeAccepts('shadow', 'target'); // false: in shadow the legacy side decides
 * ```
 */
export function modeAccepts(mode: MigrationMode, side: 'legacy' | 'target'): boolean {
  return side === 'legacy' ? mode !== 'target' : mode === 'dual' || mode === 'target';
}
