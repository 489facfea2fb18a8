// Known answers for `aenv selftest`: three envelopes of the shared test vectors
// (test/vectors/, made by an independent implementation of the format: docs/FORMAT.md "Test vectors"), with the
// master key and the plaintext digest that implementation computed. They cover both cipher
// suites and all three KDFs at the format's cheapest costs. test/selftest.test.ts checks that
// these bytes equal the vector files, so they cannot drift from them.

/** The password of every vector here (test/vectors/vectors.json). */
export const VECTOR_PASSWORD = 'correct horse \u2603 battery';

export interface KnownAnswer {
  /** The vector's file name in test/vectors. */
  file: string;
  what: string;
  /** Hex of the master key (the KDF's output). */
  master: string;
  plaintextSha256: string;
  plaintextLength: number;
  /** The whole envelope, base64. */
  envelope: string;
}

export const KNOWN_ANSWERS: readonly KnownAnswer[] = [
  {
    file: 'ok-s1-k1-c12-n1.aspera-env',
    what: 'AES-256-GCM, scrypt',
    master: '814f79632ee8ea8bb82475a0127b80663f77d9a0a6aa3a7664050adb157c8c1e',
    plaintextSha256: '8a331fdde7032f33a71e1b2e257d80166e348e00fcb17914f48bdb57a1c63007',
    plaintextLength: 1,
    envelope: [
      'QUVOVg0KGgoBAQEMDgAAAAgAAAABAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh/OSW+2hd39dRcy6I4yqU5A',
      '2aWjUIPbtVGSy8WNTaegZY+Q/BzEnmUd8LaFZJhLgJmBjN+07k/ETp3cZ5/VXqQzBw4T/5iz82VHbuBNL4Hb9tgowLoEuR4M',
      'x0FFTlZFTkQKAigXo+hPRW9szIQNHfuhYeN5hRr07zrkTBRVLYqLAms=',
    ].join(''),
  },
  {
    file: 'ok-s2-k2-c12-n4097.aspera-env',
    what: 'ChaCha20-Poly1305, Argon2id, two chunks',
    master: '8c05d3464eef8a4a2cc2f2471b02c3f0ef38379193d09872a1f6e026106c3da2',
    plaintextSha256: 'c936ad02ffbcdd534b40a064d5919fd30605342b4dca97df47ddfaece8b2ed32',
    plaintextLength: 4097,
    envelope: [
      'QUVOVg0KGgoBAgIMAEwAAAIAAAABAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+ddLfMyKSIaLU97lhoe5Dh',
      'eP4L5eYbZMXkMFdPKiqiHb0cc0nCleFE3S22ODLx6G2t1Q8szRNl7DR+vr+AnA3HvnZNjagz5wS8bxHzlrNL7aZV7GA3lPJ9',
      'xX3p3yCdVWdtxOSlPA/I6QWfI2nkA9x42DE8uuh4zDqcYe9kXEpBq1BcBh1CKnrbl/cgQmQOu6nQE5n9GUnV+TNImta38tOd',
      'RiREdkoqk3a2AtJO+IEHuOcGwZlCmuYU7QtpMTQgwZMVWHuKYjHqIJAyXUIKvg9oLESXPdUVv7+j5BQjVOv3Z5U/heIzT221',
      'j/7u/16sdnZIEAp0sXvf2Pl7OEZDVsirh6vBKATAw8cUyid4GCUxcPpa2Q7tzsrK0kxfh+N57MLoAav89NxuSjLLKKtyN3Jd',
      'zNU5umHiHyUIqva88z1m6ozy9vUmRnNMZhPOW+zW87yXuQBAqbhEp9WSzBNsn4tK2QcmZtuAfSoZ6UerwwXxRG5YtZggSwX2',
      'OVffRJCTJHakdBkkb6rkYK02FH4i13RPSVDQWV1BE3rGRmPW95h5/+cjuP7JG5tSantXbhlL6oEAeG7TJWYtPnAYExFEl9A+',
      'URrC47V2a1jORpME6qqttiWH8TJnRIso6Ucs8meadfhzvrvMcCiRYWksNmhPm8DAMq6P4w3uofqYaX7lZJ6BCIrxFFJTPWC8',
      'kB7un8L1FUYMz2Yq+hMPOM6qWeIHJUQ+c1VNxyq+DCtAokqB9Z760sIpn6AIxG23IDa1urpuoGyHz06B2ibk6v87N2aokOaL',
      'Il/xyN49fimoRbO9UsbIX8gqFDP4FF3xOKfzgNMn3e09rnVxdwuwEssbnRuByLJ56HvNAhsgM4GQdToJRFdkRYXO7JXv5Fvy',
      'pNaDGuKJnHXuVgHEAKSHxx3hnfXeQkVWWQcNrKPLorlSzxJ7BR3kcWVHxb5Rr1T4TYa0Aw6yr4l40OEX8st8hUuWJyv21H2m',
      'OK/VuHb3bMFLgLnXg9CXQZtEcdpI9KotjEIbE0ehzgCtNIpXQCXPoTz9TWMBY3BXvxMuLUSiz7PIGqQQiFm9e0BC01Tegdk+',
      'IPtcGUsXSS6zmkDjrpcg8KblS19XORi+yB6bbmC+Q+mZenT06M9ZXUP3kWiAQKfqjynFge1pkFhbqFDJsftrrnBfofyR5bzW',
      'MuY8cC+4if2SLATPgah6ff5pDOUn/IQp2qTFUTUsfuJEF8gpKOG7229VCmvCD8lXnHZAWyh3SYrq4MRx635CyULhLAK1E5kx',
      '+Zpb7tXxTL015+9P6HCoPanRgUbYnbZ/GV11CyZx5oIeBOQfuF54wItPrwweA3ZtkuBIFDWTct0Qgd6kshxjrshbw6PF7J9d',
      'CdgxXMtgH3hPbZ1LLJmee0YY0peUnt271apu0YMtTW511AVpbDerZX4mMPsp1jOa4kW4qxHUpN369VB6h1xS5itw1DvOnXrG',
      'dyWcPwJ9TUncQR1TidfS9z1XmSbJp07iwEsdqnCS87z3DCGmluuPD7OHYZxoOunby2Q29bVbcMb4E7Y5uBZSD3QbBQcbBapG',
      'daATTCJws7lvQG3g2s+hX/NPzoDV0oldSaYMGK51fTALSlD+3yh6cTmmXXRnJ/x/aFFAXgXZh9KXDfsn8ewkk7CUMg3q8CDH',
      'U+NPrQV7Ezpjv6cn1OvYKkidJajoev317DyiZmlycWwHCauA5sbMTgEzWRUf76jWuaQOKiE4X0MnPiBQnsVViTgSXSNGSCcU',
      'QtiDs+6ed4tCzIBJSJHTaYh54qrbAJisaW0RTWFWZhbnX2Vb/fe6XVzatioLEucucPx9SfzpoP93X/vBifJtLsqRf8JhTU8M',
      'Xxy/IfdX9NeKU5X7zaqAduetTQtntKIhTrDdZIhtKQpg8WBX+xTT0dT/bJ6iva9VW+tI1Ib/2HjgSvGInhTRWDnifDoSJime',
      'vV2oIzGhVG75NjzRsP0JklgqPh6GDDSAvBaIeCnkHZhVNW0Hlb3Jdue9IPBGoE//GIs1NKGi/8G+TUF5+dH4914z9qL2C+mU',
      'ulesWRa5cuEr6mls9WmI/+TBUURgf2pwvOS1PfINhI2vuUx30UM8v96Vo+/bclqsZJDT02uR2M0u2zZDNQM5+gWkkdGS4OQP',
      'EuGkzWaE91znWC8Yo9rB5xt96Lab4lORQ5Sd2/bNeC5VQecQ05mSwmTmUgm0xl/W+1+xC5CxAL4oHqrIWPS584x35h2okCeW',
      'UwEq0fPtpvNAXWWKwBkORkVaIuPq42gw1S3VrlV8eSqR/0gb8/mG5eco9dxVLXhdNt13k/Kt3mDkqAtHWUljYcTabnZ+RRxJ',
      '0+2Pm3ujjmkLhydg5N6wJnu3drrtV0QGo5/cm0ly+fct3lhtUO145LtXYGw+td9Wy0Li1gJeT5CsTWfF0BEJ1wkmEpamnjCQ',
      'fdMFIIdXWVa6zRRZfURqxq/8h3JtSw6293mxE+hz6cFk4V4Iqqt96tIGfgdZgaNie1N/OwMRgDLv+cqs1ueItR7e7OVbpghP',
      'EHhigeb+Avp3sHIogs2SFhs+LjZnhWYZLygMOIFS6GYUkJ8hPHPsEMsXncHgrN30xdfxy7VaNuGXNlz8V8QsjP7FunHE4/QE',
      'D59AD9s0mcuZkRx9r28vXebXbeKJKql/9KBMJLHWBDqz1ClpaUwd4PGqCgZkGrF2vnkg1vS6uthdZIv4uFdTIeBjqCrhiznK',
      'FCt/uEuGI61b8eN+m4zQC0FqkA6gQAuSDg3wrx2EiP8t/TyPw62sNjKYgC8isgV7wpqtKUUshJaObL0EAWhRmqyZl7wQ2B3v',
      'wmPYQ2owlw2q+lh9SwJlsznOleftA1mtL2NjJ7JlkQFciYr5S7IH6AU2u5jkQfwo0FS3l6CvwKxpZIz//7neCBfTcvfq3cZN',
      'TjsJbis59E8njZvB29hiUAdYE3P5xkj222KHpqofjptUbN2Kkw2m68NQ0jZetYqHypig9mDAF7AXApiPiNEX7W7w4GwuwOqv',
      '4iRxAdxMQK5R3V9AZzTr8lwe5G7wK4OEX3GAp2uz22K8Yd5I8KhXvKEL2rO0GZwNs0MAjPzhLWjYe9TRwkkMJndI9neCMFrx',
      'WArgg/kFlCXy0XlhdacT/HnkHxxXeNMGaLyfh0Ll1aDJMrnlOW+szuBF+uiD6tfLKAIgQuAEy0ByYx7XV6JSO832O/Mra8jc',
      'gAdQ5iho/bk5u0TyAZzG2zjAsPesTrlpqskfK6lDjo33wvHlBP8HNI6LSFnmBIx+UFFm1cXb4n2kf9I4LEgFCVsErXHb8Og+',
      '7TTdTmklIDx/+nDPBWfRb7oxj/deQmFFcTtyt5kesC6GABZk6k0gonKKkZl1C/WJu/ngPMrHmAzwreojJbwDNpBS3NZ4Zn29',
      'KvA07S46KOQgQU77KkSpJVRkL7u9bX+LiGFzbz1Yr3cClQ6id97VD1iMbaWH8azJoH34gFNN2mX+6wMCWYFBwJ3encc2+izJ',
      'xWsJ8L3drFjuzVD3fojkyeVFBxQF1rVeOkv2v75UFNzv+hVDep2gwpo2pCBTOMngDl1Vky0Eb4eSSzG8ROeYWN5DeXsRiu/m',
      'xbGD/ImZWg8Xrw8EESyr20AYeuRZAwQ+BctFI5gwyXRgI8vy04CqErbn+bun1hmc5bKnIdyt9CwqPFPbLxZqMs5KXpKo4SzP',
      'fB/olNdPVmDZ2wqi03d/7SdVu07W/1uYpN+DGOtPzDixW0ZOs33j5TjuORSbm5pcMEA6lUlFyAK2w725+KfBJ4Uc1fZlLjpR',
      'wg0QX1wok21ANK8K+7uCSQ6B2U2iQfTxFACEV7mGg66cFTtuWO1vw7q7ZLzqhg4/rmn4PtHKtTEttI1MZ79lL+VaJ70QDnc1',
      'rFmnYhdQsYnWxRAYFHsMLYhwkQFNNgcMST7fTXR4QxUgQzYikJi5nLNsaratHo79R7itSpMnm86j+o63ixzyfsmujZi5E2ZH',
      'eYjXUb8vy51fcJNpW2XZjYNppeBGWC5VqpIvNjgQuQjbDVhnEtXNriTiPXlAiV29kA+U2Wusgit07VEQkbjSeifkm8iOMDBO',
      'RkdCK96AquUgVuWYxDDhHQz5m8IQmEvXqCsPriS8bJ2GXFZT1gV8YbE4gQyB5vWB4jHV2utyBbLlcxTbZWLx2AlrwlDDLWzl',
      '6+3j+4PmBH+CjIxM7RtxtsQcTsdgmauDHJ3N45wDmJhh5N2f8lUeApvXr45AITjuUHmojMmDI4GZsIPNkhzxHwllvvOOVq47',
      'Qpy1HKuHz68ooMg846u5stTMWB2fFj4hIbzZMCCW0WPuBbhNq1jm2+BTzqx2KSrWv9+Qcmf37naYlihDKngB7yIsoLmarcC0',
      'XeBt09Fg85aWGkgSEzd51LQAljlm+zEnlNOD9SI5RQvExu2fQcy+s6KoIcWR+YOMuO5l5ZH4s/HyZnIg3CEtH7/27FTju5pG',
      'MQ3pKxITZOKwMoZzNJW9SA3bRMWmjoihMjDXEUuQ3cjtt6cHFdX3ooaV0/ka9xyzkb6FIKDxuM8uCqt19mqWj4R1awiGePJq',
      '/v/0H6TLua5C+1JWLpQxHMUxOozFbu+ZNVb+AUX6yRMZjmm9Ych/r5J4W6BKs/LVs1pemj8wHrQ/F2QyyfSo+EbHfb5BjiQ3',
      'qc++IbHIErqmLqSU9bdFDSz+xexWsGfaXYBGSj4SBZz8iIbbaa/Cso1XZ9KBoSBWswFAwo9ykbNqLuvaxO22hZgJ4fdQa7wz',
      'Ov/4xmQkINbMe4XF36Cp2BV8D2BsG9vsTJXW/XT+tHvK4apcitvpEqKTbXtFlCx16pYn97kyWf8aJlYWT6hdIhghBPQqe2wP',
      'rC/qfDMe5VUgXCidkzosvYLExIHxHIzeCF04lurEDBQk2MQ8My8/30+1H42CMoP101x8RafB+EEi6kNHFGL6aw6PZkGcJ6Q3',
      'JZO0IkyeKBZ8g0E9OAx7wh9FVQkSR76N9oXUxubM8xGNMBPF9H0kPcWYbJf4IFv9go0UXqywDfyZL0pmCAL2Lpv+l5xBzRSS',
      'mrD/VzSaboTwQWkCIX2KTPE7q/PkIlVoN1H5jbRu7txPbMSyvxCnpysfi8FVpkLEai84KoN3TJGbm5JjvyS83CvLiTCkBgUP',
      '8pv/m9zgqgmPbaci43OPEka5/37uMtzQe2qHLBu4dzzzWDpZCtzjhgbfwNLAutAbJlRS7rEt6SurHZLLk0ErEW1szZJ2VUZF',
      'rIx/z+q40UbXzwBFwbbhn6c26wpFxhTi/f7k3wMFrV6IwZ3gjDo1ciFexRURZFLURLsUyoxiCubAvu0aSxDSkqq9Ey9yNXPq',
      'ISLVBgi3zRUseDJ61prOb73o31th/0nro0ST23Zvj+7+rXx7P9txRI4C+LGDvqbORf3h15g8RKDUrGf1yFBxUWtJmfFhYQld',
      'zmmB7k9SwBoeGg9tAtzDt0k69ker/FnPxnD/PwJDEpd33MtrN02j4CaS7dW2kxs7W1BV8sBcxSHARhHAHs2c6rsJWQpq1KTY',
      'BtxANiP+qPGpZuznx0iQXmgwCWmhx9QBWfA1jxJZEba1g+4BIrSGPbwq1ZoeVhkLTwHT3RhVKXQwNQx0FQ05BkWfxyB/lkmb',
      'l6ymBaa9d3RbQUVOVkVORArsCyJYZK70pgRH5oM8mdYrCs/P9QGMmAPuYwpsNJE0EA==',
    ].join(''),
  },
  {
    file: 'ok-s1-k3-c12-n1.aspera-env',
    what: 'AES-256-GCM, PBKDF2',
    master: 'f7fb73c38cedb2039cbd8cab8e20e04e2f24c871c8712ad22f5e9dd789040b9c',
    plaintextSha256: '5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9',
    plaintextLength: 1,
    envelope: [
      'QUVOVg0KGgoBAQMMoIYBAAAAAAAAAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8ldOTrYvsxHpJfi4KsumSE',
      'ybjZvaHfySenPSsHJXSV/ST7wHjz12A2ECJEb9toLjcY0Xp//gYfv7+24SiN8YFSdOqcf0/nXcKPzZ8FJAxl69+OBacpqFs+',
      'WkFFTlZFTkQKqnlT9GUb6wjdgjnvEBZVbkq0kVJaB/M9de/MVrAjHX4=',
    ].join(''),
  },
];
