/** TensorFlow DataType enum values the checkpoint readers care about (types.proto). */
export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DT_INT32 = 3;
export const DT_INT64 = 9;

const NAMES: Record<number, string> = {
  1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 5: 'DT_INT16', 6: 'DT_INT8', 7: 'DT_STRING',
  9: 'DT_INT64', 10: 'DT_BOOL', 14: 'DT_BFLOAT16', 19: 'DT_HALF', 20: 'DT_RESOURCE',
};

export function dtypeName(dt: number): string {
  return NAMES[dt] ?? `DataType(${dt})`;
}

/** Float types we cannot read: reporting them beats silently skipping a weight. */
export function isUnsupportedFloat(dt: number): boolean {
  return dt === 14 || dt === 19;
}
