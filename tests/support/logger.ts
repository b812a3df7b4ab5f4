import pino from 'pino';

/** A logger that writes nothing: for code under test whose log lines no test reads. */
export const silent = pino({ level: 'silent' });
