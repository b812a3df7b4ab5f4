import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

/** Where and as whom the hub sends mail: `smtp://user:password@host:587` (STARTTLS when offered) or `smtps://…:465`. */
export interface MailSettings {
  /** Holds the SMTP password: read from the environment (TESSERA_SMTP_URL), never logged. */
  smtpUrl: string;
  /** The sender, e.g. `Tessera <no-reply@example.org>` (TESSERA_MAIL_FROM). */
  from: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends the hub's mail over SMTP (nodemailer). A failure is logged (never the settings, which
 * hold the password) and answered false: what was being sent about stays valid without it.
 * Bounded in time, so that a dead server holds no request for long.
 */
export class Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly settings: MailSettings,
    private readonly log: Logger,
  ) {
    this.transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(message: MailMessage): Promise<boolean> {
    try {
      await this.transport.sendMail({ from: this.settings.from, ...message });
      this.log.info({ subject: message.subject }, 'mail sent');
      return true;
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      this.log.warn({ code: e.code, reason: String(e.message) }, 'mail not sent');
      return false;
    }
  }

  close(): void {
    this.transport.close();
  }
}
