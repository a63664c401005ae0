// The CLI prints times in the local time zone; its format tests read them in UTC, around one instant.
process.env.TZ = 'UTC';

export const at = new Date('2026-01-02T03:04:05.678Z');
