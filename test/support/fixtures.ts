/**
 * Weather rows as CSV (temp, humidity, city, rain) from a seeded generator; `drift` shifts temperatures, leaves
 * every fifth humidity missing and puts an unseen city in every seventh row.
 */
export function weatherCsv(rows: number, seed: number, drift = false): string {
  let s = seed;
  const rand = () => (s = (s * 1664525 + 1013904223) % 4294967296) / 4294967296;
  const cities = ['oslo', 'lima', 'pune', 'kyiv'];
  const lines = ['temp,humidity,city,rain'];
  for (let i = 0; i < rows; i++) {
    const temp = drift ? 25 + rand() * 10 : 5 + rand() * 20;
    const humidity = drift && i % 5 === 0 ? '' : (0.2 + rand() * 0.7).toFixed(3);
    const city = drift && i % 7 === 0 ? 'atlantis' : cities[Math.floor(rand() * cities.length)]!;
    lines.push(`${temp.toFixed(2)},${humidity},${city},${rand() < 0.3}`);
  }
  return lines.join('\n') + '\n';
}
