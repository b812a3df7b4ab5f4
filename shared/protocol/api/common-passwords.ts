/**
 * Passwords of 12 characters or more that lead the published lists of leaked passwords (and the
 * obvious ones of a workspace network), compared ignoring case and the spaces around them. A
 * short curated list shipped with the hub, not a dictionary: the length rule already refuses the
 * short favourites, and this catches the long ones every guesser tries first.
 */
const COMMON = [
  '123456789012', '1234567890123', '12345678901234', '123456789123', '123123123123', '123456123456', '111111111111',
  '000000000000', '121212121212', '987654321098', '098765432109', '147258369147', '123456654321', '112233445566',
  'password1234', 'password12345', 'password123!', 'password123456', 'passwordpassword', 'passw0rd1234', 'p@ssw0rd1234',
  'p@ssword1234', 'password2024', 'password2025', 'password2026', 'mypassword123', 'changeme1234', 'changemenow!',
  'qwertyuiop12', 'qwertyuiop123', 'qwerty123456', 'qwertyqwerty', 'qwertyuiopasdf', 'qwerty12345678', '1qaz2wsx3edc',
  '1q2w3e4r5t6y', 'q1w2e3r4t5y6', 'zaq12wsxcde3', 'zaq1zaq1zaq1', '!qaz@wsx#edc', 'qazwsxedcrfv', '1qazxsw23edc',
  'asdfghjkl123', 'asdfghjklzxc', 'zxcvbnm12345', 'zxcvbnmasdfg', '1234qwerasdf', 'qwer1234asdf', '123qweasdzxc',
  'abcdefghijkl', 'abcdefgh1234', 'abc123abc123', 'abcd1234abcd', 'iloveyou1234', 'iloveyou123456', 'iloveyouiloveyou',
  'welcome12345', 'welcome123456', 'welcome1234!', 'letmein12345', 'letmeinletmein', 'administrator', 'administrator1',
  'admin1234567', 'adminadmin123', 'admin123456789', 'administrateur', 'motdepasse123', 'motdepasse1234', 'azertyuiop12',
  'azertyuiop123', 'azerty123456', 'azertyazerty', 'football1234', 'baseball1234', 'basketball12', 'sunshine1234',
  'princess1234', 'superman1234', 'starwars1234', 'whatever1234', 'monkey123456', 'dragon123456', 'michael12345',
  'trustno1trustno1', 'computer1234', 'internet1234', 'samsung12345', 'jesuschrist1', 'blink182blink', 'liverpool123',
  'manchester12', 'chelsea12345', 'tessera12345', 'tessera123456', 'coworking123', 'coworking1234', 'telecentre12',
];
const SET = new Set(COMMON);

export function isCommonPassword(password: string): boolean {
  return SET.has(password.trim().toLowerCase());
}
